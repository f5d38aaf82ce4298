//! API tokens (by hash) and access keys (with encrypted secrets).

use std::sync::Arc;

use postcheck_store::{Store, StoreError, StoredAccessKey};

use crate::fixtures::now;

pub(crate) async fn tokens_are_found_by_their_hash(store: Arc<dyn Store>) {
    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    store.create_token(hash, "proj-a", now()).await.unwrap();

    assert_eq!(store.find_token(hash).await.unwrap().as_deref(), Some("proj-a"));
    assert_eq!(store.find_token("0000").await.unwrap(), None);
    let again = store.create_token(hash, "proj-b", now()).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict { .. }), "{again:?}");
    assert_eq!(store.find_token(hash).await.unwrap().as_deref(), Some("proj-a"), "the first stays");
}

pub(crate) async fn access_keys_are_found_by_their_id(store: Arc<dyn Store>) {
    let key = StoredAccessKey {
        access_key: "HPUAEXAMPLEAK0001".into(),
        project_id: "proj-a".into(),
        encrypted_secret: vec![9, 8, 7, 0, 255],
        created_at: now(),
    };
    store.create_access_key(&key).await.unwrap();

    assert_eq!(store.find_access_key("HPUAEXAMPLEAK0001").await.unwrap(), Some(key.clone()));
    assert_eq!(store.find_access_key("HPUAUNKNOWN").await.unwrap(), None);
    let again = store
        .create_access_key(&StoredAccessKey { project_id: "proj-b".into(), ..key })
        .await
        .unwrap_err();
    assert!(
        matches!(&again, StoreError::Conflict { what } if what.contains("HPUAEXAMPLEAK0001")),
        "{again:?}"
    );
}
