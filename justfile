# The daily commands (`cargo install just`, or Debian's `just`). CI runs `.ci/run`.

# Format, lint, and run the fast tier.
default: fmt lint test-fast

# Format the workspace (rustfmt.toml: width 100).
fmt:
    cargo fmt --all

# The lints CI runs before the tests.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    scripts/tools cargo-deny
    "$(scripts/tools --print-root)/bin/cargo-deny" check licenses bans sources

# Pure logic and SQLite only: no control plane, no PostgreSQL.
test-fast:
    cargo test --workspace

# Everything, as CI runs it (installs what the tests need).
test:
    scripts/test

# Serve the API on the embedded SQLite default.
serve:
    cargo run --release --bin postcheck -- serve

# The benchmarks (see README: Benchmarks).
bench *ARGS:
    scripts/bench {{ARGS}}
