//! The sources, one file per source: how each is listed (or fetched) and compacted into its
//! Snapshot type. Each file has `read(pass) -> Result<T, kube::Error>`, where `T` is its
//! Snapshot field's type.
//!
//! Nothing here names a source by hand: the modules, [`Read`] and its dispatch are derived
//! from the one table of sources ([`crate::snapshot::source_table!`]), so adding a source is
//! a row there and a file here.

use super::{Pass, Progress, record};
#[allow(unused_imports)] // the table's types, named in its rows
use crate::snapshot::*;

/// Defines the source modules, [`Read`], [`read`] and [`Read::store`] from the table.
macro_rules! define_gathering {
    (
        gathered { $( $(#[$doc:meta])* $variant:ident $module:ident $field:ident : $ty:ty = $name:literal, $describe:literal; )* }
        actions { $($action:tt)* }
    ) => {
        $( mod $module; )*

        /// What one pass read of each gathered source (`None`: not asked for).
        pub(super) struct Read {
            $( pub(super) $field: Option<Result<$ty, kube::Error>>, )*
        }

        /// Reads every source of `sources` concurrently. Each read is boxed: inlined, the
        /// lists' futures would make the pass's future too big for a thread's stack in
        /// debug builds.
        pub(super) async fn read(pass: &Pass<'_>, sources: &[Source]) -> Read {
            let wants = |s| sources.contains(&s);
            let ( $( $field, )* ) = tokio::join!(
                $(
                    async {
                        if wants(Source::$variant) {
                            Some(Box::pin($module::read(pass)).await)
                        } else {
                            None
                        }
                    },
                )*
            );
            Read { $( $field, )* }
        }

        impl Read {
            /// Stores every source read into `snapshot`, in table order, reporting each.
            pub(super) fn store(self, snapshot: &mut Snapshot, progress: &dyn Progress) {
                $( snapshot.$field = record(Source::$variant, self.$field, progress); )*
            }
        }
    };
}

source_table!(define_gathering);
