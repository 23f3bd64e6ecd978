//! One notion of "now" for the whole program, so that a fixed `--now` makes
//! every screen and every sandbox answer reproducible.

use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Wall clock, or a fixed instant when a test or `--now` pins it.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<DateTime<Utc>>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { fixed: None }
    }

    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self {
            fixed: Some(Arc::new(at)),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(t) => **t,
            None => Utc::now(),
        }
    }

    pub fn is_fixed(&self) -> bool {
        self.fixed.is_some()
    }
}
