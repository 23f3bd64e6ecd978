//! The state of one read of a customer's data as the console follows it:
//! which key it belongs to, whether it is under way, its answer or the
//! failure an agent can act on. UI-free: the panes only show it.

use crate::store::StoreError;
use chrono::{DateTime, Utc};

/// A read that did not work, with what it most likely means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
    /// The ids Microsoft support traces the failed call by (the case
    /// file's "Failed calls"); empty for failures that were not a call.
    pub correlation_ids: Vec<(String, String)>,
}

impl Failure {
    pub fn from_store(e: &StoreError) -> Self {
        Self {
            message: e.to_string(),
            hint: e.hint().map(String::from),
            correlation_ids: super::load::correlation_pairs(&e.correlation),
        }
    }

    pub fn plain(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            correlation_ids: Vec::new(),
        }
    }

    /// "message — hint", for the status bar and empty states.
    pub fn line(&self) -> String {
        match &self.hint {
            Some(h) => format!("{} — {h}", self.message),
            None => self.message.clone(),
        }
    }
}

/// Where one read of a pane stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Load<T> {
    /// Nothing asked yet.
    Idle,
    Loading {
        load_id: u64,
    },
    Loaded {
        at: DateTime<Utc>,
        data: T,
    },
    Failed(Failure),
}

impl<T> Load<T> {
    /// Settle a read with its answer. A failure is also reported as
    /// "`what`: reason" for the status bar.
    pub fn settle(
        &mut self,
        result: Result<T, Failure>,
        at: DateTime<Utc>,
        what: &str,
    ) -> Result<(), String> {
        match result {
            Ok(data) => {
                *self = Load::Loaded { at, data };
                Ok(())
            }
            Err(f) => {
                let msg = format!("{what}: {}", f.line());
                *self = Load::Failed(f);
                Err(msg)
            }
        }
    }

    pub fn data(&self) -> Option<&T> {
        match self {
            Load::Loaded { data, .. } => Some(data),
            _ => None,
        }
    }

    pub fn loaded_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Load::Loaded { at, .. } => Some(*at),
            _ => None,
        }
    }

    pub fn is_loading(&self) -> bool {
        matches!(self, Load::Loading { .. })
    }

    /// This read as a part of the case: `not_read` says why nothing was
    /// asked yet, `failed` where the failure is shown.
    pub fn to_part(&self, not_read: &str, failed: &str) -> super::Part<T>
    where
        T: Clone,
    {
        use super::Part;
        match self {
            Load::Idle => Part::NotRead(not_read.into()),
            Load::Loading { .. } => Part::Reading(None),
            Load::Loaded { data, .. } => Part::Read(data.clone()),
            Load::Failed(_) => Part::Failed {
                why: failed.into(),
                partial: None,
            },
        }
    }

    /// This read as a failed call of the case, if it failed.
    pub fn failed_call(&self, what: &str) -> Option<super::FailedCall> {
        match self {
            Load::Failed(f) => Some(super::FailedCall {
                what: what.into(),
                message: f.message.clone(),
                correlation_ids: f.correlation_ids.clone(),
            }),
            _ => None,
        }
    }

    /// The read's job panicked: a read in progress becomes a failure.
    pub fn crashed(&mut self, message: &str) {
        if self.is_loading() {
            *self = Load::Failed(Failure::plain(format!("internal error: {message}")));
        }
    }

    /// Whether an answer with `load_id` is the one this state waits for.
    pub fn awaits(&self, load_id: u64) -> bool {
        matches!(self, Load::Loading { load_id: l } if *l == load_id)
    }
}

/// One read of the case: the key it follows, its load state, and two
/// counters the views compare with what they last showed — `generation`
/// moves whenever the data or its state changes, `customer` only when the
/// key changed to another customer (the views drop their cursor then).
#[derive(Debug)]
pub struct Read<T> {
    key: Option<String>,
    connected: bool,
    next_load: u64,
    pub load: Load<T>,
    pub generation: u64,
    pub customer: u64,
}

impl<T> Default for Read<T> {
    fn default() -> Self {
        Self {
            key: None,
            connected: false,
            next_load: 1,
            load: Load::Idle,
            generation: 0,
            customer: 0,
        }
    }
}

impl<T> Read<T> {
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    pub fn connected(&self) -> bool {
        self.connected
    }

    pub fn data(&self) -> Option<&T> {
        self.load.data()
    }

    /// Follow the case's key; true when the customer changed (the data is
    /// dropped). A renewed key of the same customer is adopted without a
    /// new read.
    pub fn follow(&mut self, key: Option<&str>, connected: bool) -> bool {
        self.connected = connected;
        if self.key.as_deref() == key {
            return false;
        }
        let same = match (self.key.as_deref(), key) {
            (Some(old), Some(new)) => crate::store::keyinfo::same_customer(old, new),
            _ => false,
        };
        self.key = key.map(String::from);
        if !same {
            self.drop_data();
        }
        !same
    }

    /// Forget what was read (another customer, or another source).
    pub fn drop_data(&mut self) {
        self.load = Load::Idle;
        self.generation += 1;
        self.customer += 1;
    }

    pub fn set_connected(&mut self, connected: bool) {
        self.connected = connected;
    }

    /// Whether a view now on screen should start the first read.
    pub fn wants_first_load(&self, focused: bool) -> bool {
        focused && self.key.is_some() && self.connected && matches!(self.load, Load::Idle)
    }

    /// Start a read: a fresh load id and the key to read with, or why
    /// there is none.
    pub fn begin(&mut self) -> Result<(u64, String), &'static str> {
        let Some(key) = self.key.clone() else {
            return Err(
                "no purchase key in the case: paste the customer's UserPurchaseId in the Key pane (1)",
            );
        };
        let id = self.begin_unkeyed()?;
        Ok((id, key))
    }

    /// Start a read that needs no customer key (the clawback queue).
    pub fn begin_unkeyed(&mut self) -> Result<u64, &'static str> {
        if !self.connected {
            return Err("not connected to a Store yet");
        }
        let id = self.next_load;
        self.next_load += 1;
        self.load = Load::Loading { load_id: id };
        self.generation += 1;
        Ok(id)
    }

    /// The answer to load `load_id`: `None` when it is not the one waited
    /// for (an answer for a key no longer in the case); otherwise the
    /// status-bar message of a failure, as `Load::settle`.
    pub fn settle(
        &mut self,
        load_id: u64,
        result: Result<T, Failure>,
        at: DateTime<Utc>,
        what: &str,
    ) -> Option<Result<(), String>> {
        if !self.load.awaits(load_id) {
            return None;
        }
        self.generation += 1;
        Some(self.load.settle(result, at, what))
    }

    /// The read's job panicked: a read in progress becomes a failure.
    pub fn crashed(&mut self, message: &str) {
        if self.load.is_loading() {
            self.load.crashed(message);
            self.generation += 1;
        }
    }
}
