//! The task methods of [`crate::Store`], the same in every backend (`impl_store!`): each delegates to the
//! backend's generic `create_in`, `finish_in`, `get_in` and `list_in`, which take the
//! task's kind (post-check or pre-check) as a type and so its table.

/// `impl_store! { Backend { other methods } }` implements [`crate::Store`] for `Backend`
/// with the post-check and pre-check task methods and the other methods given.
macro_rules! impl_store {
    ($backend:ty { $($rest:tt)* }) => {
        #[async_trait::async_trait]
        impl Store for $backend {
        async fn create_task(&self, task: &StoredTask) -> Result<(), StoreError> {
            self.create_in(task).await
        }

        async fn finish_task(
            &self,
            project_id: &str,
            uid: &str,
            status: &TaskStatus,
        ) -> Result<bool, StoreError> {
            self.finish_in(project_id, uid, status, None).await
        }

        async fn get_task(
            &self,
            project_id: &str,
            uid: &str,
        ) -> Result<Option<StoredTask>, StoreError> {
            self.get_in(project_id, uid).await
        }

        async fn list_tasks(
            &self,
            project_id: &str,
            cluster_id: &str,
            limit: u32,
            marker: Option<&str>,
        ) -> Result<TaskPage, StoreError> {
            self.list_in(project_id, cluster_id, limit, marker).await
        }

        async fn create_precheck(&self, task: &StoredPrecheck) -> Result<(), StoreError> {
            self.create_in(task).await
        }

        async fn finish_precheck(
            &self,
            project_id: &str,
            uid: &str,
            status: &PrecheckStatus,
            baseline: Option<&StoredBaseline>,
        ) -> Result<bool, StoreError> {
            self.finish_in(project_id, uid, status, baseline).await
        }

        async fn get_precheck(
            &self,
            project_id: &str,
            uid: &str,
        ) -> Result<Option<StoredPrecheck>, StoreError> {
            self.get_in(project_id, uid).await
        }

        async fn list_prechecks(
            &self,
            project_id: &str,
            cluster_id: &str,
            limit: u32,
            marker: Option<&str>,
        ) -> Result<TaskPage<PrecheckStatus>, StoreError> {
            self.list_in(project_id, cluster_id, limit, marker).await
        }

        $($rest)*
        }
    };
}
