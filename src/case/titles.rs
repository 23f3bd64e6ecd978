//! Product titles for the ids a case shows, kept in `<data dir>/titles.json`
//! so a title is looked up once: names, not only ids. Offline, or for an id
//! the catalog does not know, the id alone is shown.

use crate::store::StoreClient;
use crate::store::error::StoreError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The cache: upper-cased product id → title.
#[derive(Debug, Default)]
pub struct Titles {
    path: PathBuf,
    map: BTreeMap<String, String>,
}

impl Titles {
    /// The cache at `path`; a missing or unreadable file is an empty cache
    /// (titles are a convenience, never a reason to fail).
    pub fn load(path: &Path) -> Self {
        let map = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        Self {
            path: path.to_path_buf(),
            map,
        }
    }

    pub fn get(&self, product_id: &str) -> Option<&str> {
        self.map
            .get(&product_id.trim().to_ascii_uppercase())
            .map(String::as_str)
    }

    /// `9NSDGAME0001 Contoso Quest`, or the id alone when no title is known.
    pub fn label(&self, product_id: &str) -> String {
        match self.get(product_id) {
            Some(t) => format!("{product_id} {t}"),
            None => product_id.to_string(),
        }
    }

    /// Look up the ids not cached yet and keep what the catalog answers.
    /// Returns how many titles were added; an error leaves the cache as it was.
    pub async fn fetch_missing(
        &mut self,
        client: &StoreClient,
        product_ids: &[String],
    ) -> Result<usize, StoreError> {
        let missing: Vec<String> = product_ids
            .iter()
            .filter(|id| self.get(id).is_none())
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let found = client.product_titles(&missing).await?;
        let added = found.len();
        if added > 0 {
            self.map.extend(found);
            self.save();
        }
        Ok(added)
    }

    /// Write through a temporary file, so a crash never leaves half a file.
    fn save(&self) {
        let Ok(text) = serde_json::to_string_pretty(&self.map) else {
            return;
        };
        let tmp = self.path.with_extension("json.tmp");
        let res = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = res {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot save the title cache");
        }
    }
}
