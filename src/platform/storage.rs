//! Where uploaded files live, behind one trait: the local disk today (`LINLI_UPLOAD_DIR`), an
//! object store later without touching the routes.
//!
//! Keys are made by us (`yyyy/mm/<uuid>`), never taken from a request; a key that could leave
//! the root (`..`, absolute, empty segments) is refused anyway.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid storage key")]
    InvalidKey,
    #[error("storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage task failed: {0}")]
    Task(String),
}

pub type StorageResult<T> = Result<T, StorageError>;

#[async_trait::async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Stores `bytes` under `key`, replacing what was there; all or nothing.
    async fn put(&self, key: &str, bytes: &[u8]) -> StorageResult<()>;
    /// The bytes under `key`, or None when there are none.
    async fn get(&self, key: &str) -> StorageResult<Option<Vec<u8>>>;
    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> StorageResult<()>;
}

/// A fresh key for an upload made at `now`: `yyyy/mm/<uuid>`.
pub fn new_key(now: DateTime<Utc>) -> String {
    format!("{:04}/{:02}/{}", now.year(), now.month(), Uuid::now_v7())
}

/// Files under one directory; a key's segments are its subdirectories.
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    /// Uses (and creates, if need be) `root`.
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> StorageResult<PathBuf> {
        let valid = !key.is_empty()
            && key.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && !seg.starts_with('.')
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !valid {
            return Err(StorageError::InvalidKey);
        }
        Ok(self.root.join(key))
    }
}

/// Runs blocking file work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> StorageResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
        .map_err(StorageError::from)
}

/// Writes to a temporary file beside `path`, flushes it to disk, then renames it into place: a
/// crash leaves either the old file, the new one or a stray temporary, never half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("storage path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{}", Uuid::now_v7().simple()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[async_trait::async_trait]
impl Storage for LocalDisk {
    async fn put(&self, key: &str, bytes: &[u8]) -> StorageResult<()> {
        let path = self.path(key)?;
        let bytes = bytes.to_vec();
        blocking(move || write_atomically(&path, &bytes)).await
    }

    async fn get(&self, key: &str) -> StorageResult<Option<Vec<u8>>> {
        let path = self.path(key)?;
        blocking(move || match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    async fn delete(&self, key: &str) -> StorageResult<()> {
        let path = self.path(key)?;
        blocking(move || match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        })
        .await
    }
}

/// The storage configured for this deployment.
pub fn connect(upload_dir: &Path) -> anyhow::Result<Arc<dyn Storage>> {
    let disk = LocalDisk::new(upload_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the upload directory {}: {e}",
            upload_dir.display()
        )
    })?;
    Ok(Arc::new(disk))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn keys_that_could_leave_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let disk = LocalDisk::new(dir.path()).unwrap();
        for key in [
            "",
            "..",
            "../x",
            "2026/../../etc/passwd",
            "/etc/passwd",
            "a//b",
            "a/./b",
            ".hidden",
            "a\\b",
        ] {
            assert!(disk.path(key).is_err(), "{key:?} accepted");
        }
        assert!(disk.path(&new_key(Utc::now())).is_ok());
    }

    #[tokio::test]
    async fn put_get_delete_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let disk = LocalDisk::new(dir.path().join("uploads")).unwrap();
        let key = new_key(Utc::now());
        assert_eq!(disk.get(&key).await.unwrap(), None);
        disk.put(&key, b"hello").await.unwrap();
        assert_eq!(
            disk.get(&key).await.unwrap().as_deref(),
            Some(&b"hello"[..])
        );
        disk.delete(&key).await.unwrap();
        disk.delete(&key).await.unwrap();
        assert_eq!(disk.get(&key).await.unwrap(), None);
    }
}
