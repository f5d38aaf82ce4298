//! Property: whatever body, content type or version strings are posted, the service
//! answers (never a 5xx, never a crash), and every refusal is in CCE's shape.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::helpers::*;

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        "v?[0-9]{0,3}(\\.[0-9]{0,7}){0,4}(-r?[0-9a-z.]{0,6})?".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{0,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The seed with one of its fields replaced by an arbitrary value.
fn mutated_seed() -> impl Strategy<Value = Value> {
    let fields = prop::sample::select(vec![
        "apiVersion",
        "kind",
        "spec",
        "spec.clusterID",
        "spec.clusterVersion",
        "spec.targetVersion",
        "extra",
    ]);
    (fields, json_value()).prop_map(|(field, value)| {
        let mut seed = seed_request();
        match field.split_once('.') {
            Some((_, inner)) => seed["spec"][inner] = value,
            None => seed[field] = value,
        }
        seed
    })
}

#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    Json(Value),
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256).prop_map(Body::Bytes),
        json_value().prop_map(Body::Json),
        mutated_seed().prop_map(Body::Json),
    ]
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("application/json".to_owned()),
        1 => Just("application/json; charset=utf-8".to_owned()),
        1 => "[ -~]{0,40}",
    ]
}

#[test]
fn arbitrary_posts_never_get_a_5xx() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(async {
        let app = spawn_app().await;
        app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
        app
    });
    let path = TestApp::postcheck_path(PROJECT, CLUSTER);
    let mut runner =
        TestRunner::new(Config { cases: 200, failure_persistence: None, ..Config::default() });
    runner
        .run(&(body(), content_type()), |(body, content_type)| {
            let bytes = match &body {
                Body::Bytes(b) => b.clone(),
                Body::Json(v) => v.to_string().into_bytes(),
            };
            let (status, answer) = runtime.block_on(async {
                let response = app.post_raw(&path, content_type.trim(), bytes, &[]).await;
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap_or(json!(null)))
            });
            prop_assert!(status < 500, "status {status} for {body:?} ({content_type:?}): {answer}");
            if status >= 400 {
                prop_assert!(
                    answer["errorCode"].as_str().is_some_and(|c| c.starts_with("CCE.")),
                    "not CCE's shape: {answer}"
                );
            } else {
                prop_assert_eq!(&answer["kind"], "PostCheckTask");
            }
            Ok(())
        })
        .unwrap();
    // The service is still up and answering after all of it.
    let health = runtime
        .block_on(async { app.http.get(app.url("/healthz")).send().await.unwrap().status() });
    assert_eq!(health, 200);
}
