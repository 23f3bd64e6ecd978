//! The Entitlements pane: every page of what the customer owns, fetched
//! progressively, filtered, sorted, exported; a detail view per item with
//! the consume action. State and key handling here; drawing in
//! `entitlements_view`, the detail in `entitlements_detail`, the jobs in
//! `entitlements_job`.

use crate::browse::{Column, Dataset, Format, View, export};
pub use crate::case::listing::{FetchState, QueryMode};
use crate::case::live::LiveCase;
use crate::journal::{GrantParams, WriteRequest};
use crate::keys;
use crate::store::PageProgress;
use crate::store::model::{
    AcquisitionType, Entitlement, EntitlementStatus, Order, ProductKind, ValidityType,
};
use crate::tui::action::Effect;
use crate::tui::keymap::{self, Command, Scope};
use crate::tui::panes::{PaneCtx, PaneId, PaneJob, PaneOutput, Routed};
use crate::tui::widgets::confirm::ConfirmDialog;
use crate::tui::widgets::form::{Form, FormOutcome};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use std::sync::Arc;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// One full listing to run.
#[derive(Clone, PartialEq)]
pub struct FetchRequest {
    pub fetch_id: u64,
    /// The UserCollectionsId.
    pub key: String,
    pub validity: ValidityType,
    pub exclude_duplicates: bool,
}

/// Jobs the pane asks for.
#[derive(Clone, PartialEq)]
pub enum EntJob {
    Fetch(FetchRequest),
    Cancel {
        fetch_id: u64,
    },
    /// Write `content` to `file_name` in the exports dir.
    Export {
        file_name: String,
        content: Arc<str>,
        rows: usize,
    },
    /// A confirmed write, run through the journal.
    Write(WriteRequest),
    /// Titles of these product ids (the data dir's cache, then the catalog).
    Titles(Vec<String>),
}

// Keys are credentials: a Debug print must never carry one into a log.
impl std::fmt::Debug for EntJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntJob::Fetch(r) => write!(
                f,
                "Fetch {{ id: {}, key: {}, validity: {}, exclude_duplicates: {} }}",
                r.fetch_id,
                keys::fingerprint(&r.key),
                r.validity,
                r.exclude_duplicates
            ),
            EntJob::Cancel { fetch_id } => write!(f, "Cancel {{ id: {fetch_id} }}"),
            EntJob::Export {
                file_name, rows, ..
            } => write!(f, "Export {{ {file_name}, {rows} rows }}"),
            EntJob::Write(w) => write!(f, "Write({w:?})"),
            EntJob::Titles(ids) => write!(f, "Titles({} ids)", ids.len()),
        }
    }
}

/// Results for the pane.
#[derive(Clone, Debug)]
pub enum EntEvent {
    Plan {
        fetch_id: u64,
        mode: QueryMode,
    },
    Page {
        fetch_id: u64,
        items: Vec<Entitlement>,
        progress: PageProgress,
    },
    /// The client is waiting before its next call (429 Retry-After, backoff).
    Waiting {
        fetch_id: u64,
        secs_left: u64,
        why: String,
    },
    /// The customer's calls left after a listing that failed (a page
    /// says it on the way; a failure would otherwise leave the status bar
    /// showing the last page's count, or none, while the budget is spent).
    Budget {
        calls_left: u32,
    },
    Finished {
        fetch_id: u64,
        result: Result<PageProgress, FetchError>,
    },
    Exported(Result<(PathBuf, usize), String>),
    Written(Result<String, String>),
    /// Product titles known for the listing (upper-cased id → title).
    Titles(std::collections::BTreeMap<String, String>),
}

impl EntEvent {
    /// Collection calls left for the customer, when this event knows it.
    pub fn calls_left(&self) -> Option<u32> {
        match self {
            EntEvent::Page { progress, .. }
            | EntEvent::Finished {
                result: Ok(progress),
                ..
            } => progress.calls_left,
            EntEvent::Budget { calls_left } => Some(*calls_left),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    Cancelled,
    Failed(String),
}

/// What an open form is for.
pub enum FormPurpose {
    /// `have` is the current balance, or -1 when the Store did not say.
    Consume {
        key: String,
        product: String,
        have: i64,
    },
    Grant {
        key: String,
    },
}

// The key is a credential: a Debug print shows its fingerprint only.
impl std::fmt::Debug for FormPurpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormPurpose::Consume { key, product, have } => write!(
                f,
                "Consume {{ key: {}, product: {product}, have: {have} }}",
                keys::fingerprint(key)
            ),
            FormPurpose::Grant { key } => write!(f, "Grant {{ key: {} }}", keys::fingerprint(key)),
        }
    }
}

/// The filter editor opened with `/`.
#[derive(Debug, Default)]
pub struct FilterEditor {
    pub row: EditorRow,
    /// Option under the cursor on the current choice row.
    pub cursor: usize,
    pub input: Input,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EditorRow {
    #[default]
    Text,
    Status,
    Kind,
    Acquisition,
    Flags,
}

impl EditorRow {
    const ORDER: [EditorRow; 5] = [
        EditorRow::Text,
        EditorRow::Status,
        EditorRow::Kind,
        EditorRow::Acquisition,
        EditorRow::Flags,
    ];

    pub fn label(self) -> &'static str {
        match self {
            EditorRow::Text => "Text",
            EditorRow::Status => "Status",
            EditorRow::Kind => "Kind",
            EditorRow::Acquisition => "Acquired",
            EditorRow::Flags => "Only",
        }
    }

    fn step(self, by: isize) -> Self {
        let i = Self::ORDER.iter().position(|r| *r == self).unwrap_or(0) as isize;
        let n = Self::ORDER.len() as isize;
        Self::ORDER[((i + by).rem_euclid(n)) as usize]
    }
}

/// What the detail view knows about the case's orders.
#[derive(Clone, Debug, PartialEq)]
pub enum OrdersState<'a> {
    NoPurchaseKey,
    Loading,
    Loaded(&'a [Order]),
    Failed(String),
}

impl<'a> OrdersState<'a> {
    pub fn of(case: &'a LiveCase) -> Self {
        use crate::case::read::Load;
        if case.purchase_key().is_none() {
            return OrdersState::NoPurchaseKey;
        }
        match &case.orders.load {
            Load::Idle | Load::Loading { .. } => OrdersState::Loading,
            Load::Loaded { data, .. } => OrdersState::Loaded(data),
            Load::Failed(f) => OrdersState::Failed(f.line()),
        }
    }
}

#[derive(Debug)]
pub struct Detail {
    pub row: u32,
    pub scroll: u16,
}

/// A row's identity across listings: product, sku, entitlement id and
/// transaction id.
type RowId = (String, String, String, String);

/// What has the keyboard before the list. One at a time, so which one
/// takes a key never depends on the order of checks.
#[derive(Debug, Default)]
pub enum Modal {
    #[default]
    None,
    /// The filter editor (`/`).
    Editor(FilterEditor),
    /// The small form a consume (quantity) or a grant (availabilityId…)
    /// needs.
    Form(Box<(Form, FormPurpose)>),
    /// `e` asked: CSV or JSON?
    ExportPrompt,
}

/// A view of the case's listing: filters, sort, columns, cursor, detail,
/// and the one modal that has the keyboard.
pub struct EntitlementsPane {
    pub view: View,
    pub hidden: Vec<Column>,
    /// Position in `view.visible`.
    pub selected: usize,
    pub validity: ValidityType,
    pub exclude_duplicates: bool,
    /// What has the keyboard before the list: at most one thing at a time.
    pub modal: Modal,
    pub detail: Option<Detail>,
    /// The detail asked for the case's orders (read by the Orders pane).
    wants_orders: bool,
    pub writing: bool,
    /// V or D pressed once on a costly re-list: the next press goes on.
    relist_armed: Option<Command>,
    /// The row selected before `r`, selected again when it comes back.
    follow: Option<RowId>,
    /// The table's scroll position and height, kept by `fit`.
    pub offset: usize,
    pub page_height: usize,
    /// The case's listing generation the view was made from.
    seen: u64,
    now: i64,
}

impl Default for EntitlementsPane {
    fn default() -> Self {
        Self {
            view: View::default(),
            hidden: Vec::new(),
            selected: 0,
            validity: ValidityType::All,
            exclude_duplicates: false,
            modal: Modal::None,
            detail: None,
            wants_orders: false,
            writing: false,
            relist_armed: None,
            follow: None,
            offset: 0,
            page_height: 20,
            seen: 0,
            now: 0,
        }
    }
}

fn ent_job(j: EntJob) -> Effect {
    Effect::Pane(PaneId::Entitlements, PaneJob::Entitlements(j))
}

impl EntitlementsPane {
    pub fn editor(&self) -> Option<&FilterEditor> {
        match &self.modal {
            Modal::Editor(e) => Some(e),
            _ => None,
        }
    }

    pub fn form(&self) -> Option<&(Form, FormPurpose)> {
        match &self.modal {
            Modal::Form(f) => Some(f),
            _ => None,
        }
    }

    fn form_mut(&mut self) -> Option<&mut (Form, FormPurpose)> {
        match &mut self.modal {
            Modal::Form(f) => Some(f),
            _ => None,
        }
    }

    /// Columns on screen, in order.
    pub fn shown_columns(&self) -> Vec<Column> {
        Column::ALL
            .into_iter()
            .filter(|c| !self.hidden.contains(c))
            .collect()
    }

    /// The row under the cursor.
    pub fn selected_row(&self) -> Option<u32> {
        self.view.visible.get(self.selected).copied()
    }

    /// What names a row across two listings of the same customer.
    fn row_id(&self, case: &LiveCase, i: u32) -> Option<RowId> {
        let r = case.listing.data.row(i)?;
        Some((
            case.listing.data.sym(r.product).to_string(),
            case.listing.data.sym(r.sku).to_string(),
            case.listing.data.text(r.id).to_string(),
            case.listing.data.text(r.transaction).to_string(),
        ))
    }

    /// Select the row `follow` names, once it has arrived.
    fn find_followed(&mut self, case: &mut LiveCase) {
        let Some(id) = self.follow.clone() else {
            return;
        };
        if let Some(p) = (0..self.view.visible.len())
            .find(|&p| self.row_id(case, self.view.visible[p]).as_ref() == Some(&id))
        {
            self.selected = p;
            self.follow = None;
        }
    }

    /// Called after every update: starts a fetch when the pane is on screen
    /// with a key not fetched yet, or when a new key replaces a running one;
    /// forgets everything when the case is cleared.
    pub fn sync(&mut self, focused: bool, case: &mut LiveCase, ctx: &PaneCtx) -> PaneOutput {
        self.now = ctx.now.timestamp();
        if case.listing.generation != self.seen {
            // The listing changed behind the view (cleared, or handed back).
            self.seen = case.listing.generation;
            self.refilter(case);
        }
        if case.purchase_key().is_none() {
            self.wants_orders = false;
        }
        let key = case.collections_key().map(String::from);
        match key.as_deref() {
            None if case.listing.fetched_key.is_some() => {
                let out = self.cancel_running(case);
                case.listing.clear();
                *self = Self {
                    hidden: std::mem::take(&mut self.hidden),
                    seen: case.listing.generation,
                    now: self.now,
                    ..Self::default()
                };
                out
            }
            // A renewed key of the same customer: the listing still holds,
            // and listing again could cost up to 100 calls.
            Some(k)
                if matches!(case.listing.fetch, FetchState::Done(_))
                    && case.listing.fetched_key.as_deref().is_some_and(|old| {
                        old != k && crate::store::keyinfo::same_customer(old, k)
                    }) =>
            {
                case.listing.fetched_key = Some(k.to_string());
                PaneOutput::none()
            }
            Some(k) if case.listing.fetched_key.as_deref() != Some(k) => {
                if ctx.conn.is_none() || !(focused || case.listing.is_fetching()) {
                    return PaneOutput::none();
                }
                // Filters belong to the case: another customer starts with
                // none, so nothing of theirs is hidden by the last ticket's.
                self.forget_filters();
                case.listing.fetched_key = Some(k.to_string());
                self.start_fetch(case)
            }
            _ => PaneOutput::none(),
        }
    }

    fn cancel_running(&mut self, case: &mut LiveCase) -> PaneOutput {
        match &case.listing.fetch {
            FetchState::Running {
                fetch_id, progress, ..
            } => {
                let fx = ent_job(EntJob::Cancel {
                    fetch_id: *fetch_id,
                });
                case.listing.fetch = FetchState::Cancelled(*progress);
                PaneOutput::effect(fx)
            }
            _ => PaneOutput::none(),
        }
    }

    /// Drop what is loaded and fetch every page again for the current key.
    fn start_fetch(&mut self, case: &mut LiveCase) -> PaneOutput {
        let Some(key) = case.listing.fetched_key.clone() else {
            return PaneOutput::error(
                "no collections key in the case: paste a UserCollectionsId in the Key pane (1)",
            );
        };
        let mut out = self.cancel_running(case);
        let fetch_id = case.listing.next_fetch_id;
        case.listing.next_fetch_id += 1;
        case.listing.previous = None;
        self.follow = None;
        case.listing.data = Dataset::new();
        self.view.rebuild(&case.listing.data, self.now);
        self.selected = 0;
        self.offset = 0;
        self.detail = None;
        case.listing.mode = None;
        case.listing.fetch = FetchState::Running {
            fetch_id,
            progress: PageProgress::default(),
            waiting: None,
        };
        out.effects.push(ent_job(EntJob::Fetch(FetchRequest {
            fetch_id,
            key,
            validity: self.validity.clone(),
            exclude_duplicates: self.exclude_duplicates,
        })));
        out
    }

    fn current_fetch(&self, case: &LiveCase) -> Option<u64> {
        match case.listing.fetch {
            FetchState::Running { fetch_id, .. } => Some(fetch_id),
            _ => None,
        }
    }

    pub fn on_event(&mut self, case: &mut LiveCase, ev: EntEvent, ctx: &PaneCtx) -> PaneOutput {
        self.now = ctx.now.timestamp();
        match ev {
            EntEvent::Plan { fetch_id, mode } if Some(fetch_id) == self.current_fetch(case) => {
                case.listing.mode = Some(mode);
                PaneOutput::none()
            }
            EntEvent::Page {
                fetch_id,
                items,
                progress,
            } if Some(fetch_id) == self.current_fetch(case) => {
                let keep = self.selected_row();
                case.listing.data.extend(progress.pages, items);
                self.view.rebuild(&case.listing.data, self.now);
                self.reselect(keep);
                self.find_followed(case);
                case.listing.fetch = FetchState::Running {
                    fetch_id,
                    progress,
                    waiting: None,
                };
                PaneOutput::none()
            }
            EntEvent::Budget { .. } => PaneOutput::none(),
            EntEvent::Waiting {
                fetch_id,
                secs_left,
                why,
            } => {
                if let FetchState::Running {
                    fetch_id: id,
                    waiting,
                    ..
                } = &mut case.listing.fetch
                    && *id == fetch_id
                {
                    *waiting = (secs_left > 0).then_some((secs_left, why));
                }
                PaneOutput::none()
            }
            EntEvent::Finished { fetch_id, result }
                if Some(fetch_id) == self.current_fetch(case) =>
            {
                let so_far = match &case.listing.fetch {
                    FetchState::Running { progress, .. } => *progress,
                    _ => PageProgress::default(),
                };
                let titles = self.ask_titles(case);
                // A refresh that did not finish gives the whole listing back.
                if let (Err(e), Some((data, fetch, mode))) = (&result, case.listing.previous.take())
                {
                    case.listing.data = data;
                    case.listing.fetch = fetch;
                    case.listing.mode = mode;
                    self.view.rebuild(&case.listing.data, self.now);
                    self.selected = 0;
                    self.find_followed(case);
                    self.follow = None;
                    return match e {
                        FetchError::Cancelled => PaneOutput::toast(
                            "refresh cancelled: the previous listing is kept (r lists again)",
                        ),
                        FetchError::Failed(m) => PaneOutput::error(format!(
                            "refresh failed: {m} — the previous listing is kept (r lists again)"
                        )),
                    };
                }
                case.listing.previous = None;
                self.follow = None;
                let mut out = match result {
                    Ok(p) => {
                        case.listing.fetch = FetchState::Done(p);
                        PaneOutput::none()
                    }
                    Err(FetchError::Cancelled) => {
                        case.listing.fetch = FetchState::Cancelled(so_far);
                        PaneOutput::none()
                    }
                    Err(FetchError::Failed(m)) => {
                        case.listing.fetch = FetchState::Failed(so_far, m.clone());
                        PaneOutput::error(format!("listing entitlements failed: {m}"))
                    }
                };
                out.effects.extend(titles);
                out
            }
            EntEvent::Titles(t) => {
                case.titles.extend(t);
                PaneOutput::none()
            }
            EntEvent::Exported(Ok((path, rows))) => PaneOutput::toast(format!(
                "exported {} row(s) to {}",
                crate::browse::thousands(rows),
                path.display()
            )),
            EntEvent::Exported(Err(m)) => PaneOutput::error(format!("export failed: {m}")),
            EntEvent::Written(r) => {
                self.writing = false;
                match r {
                    // Listing again would cost up to 100 calls of the
                    // customer's budget: say so and let the agent choose.
                    Ok(m) => PaneOutput::toast(format!("{m} · r lists again to see it")),
                    Err(m) => PaneOutput::error(m),
                }
            }
            // An answer from a fetch that was replaced or cancelled.
            EntEvent::Plan { .. } | EntEvent::Page { .. } | EntEvent::Finished { .. } => {
                PaneOutput::none()
            }
        }
    }

    /// Keep the cursor on the same row across a rebuild.
    fn reselect(&mut self, keep: Option<u32>) {
        if let Some(r) = keep
            && let Some(p) = self.view.visible.iter().position(|&x| x == r)
        {
            self.selected = p;
            return;
        }
        self.selected = self.selected.min(self.view.visible.len().saturating_sub(1));
    }

    fn refilter(&mut self, case: &mut LiveCase) {
        let keep = self.selected_row();
        self.view.refilter(&case.listing.data, self.now);
        self.reselect(keep);
    }

    fn resort(&mut self, case: &mut LiveCase) {
        let keep = self.selected_row();
        self.view.rebuild(&case.listing.data, self.now);
        self.reselect(keep);
    }

    /// Keys the pane takes before the keymap: the filter editor, the export
    /// prompt. `None` lets the keymap have the key.
    pub fn on_key(
        &mut self,
        case: &mut LiveCase,
        k: KeyEvent,
        ctx: &PaneCtx,
    ) -> Option<PaneOutput> {
        self.now = ctx.now.timestamp();
        match self.modal {
            Modal::None => None,
            Modal::ExportPrompt => {
                self.modal = Modal::None;
                Some(match keymap::lookup(&k, Scope::ExportPrompt) {
                    Some(Command::ExportCsv) => self.export(case, Format::Csv, ctx),
                    Some(Command::ExportJson) => self.export(case, Format::Json, ctx),
                    _ => PaneOutput::toast("export cancelled"),
                })
            }
            Modal::Editor(_) => Some(self.editor_key(case, k)),
            Modal::Form(_) => Some(self.form_key(k, ctx)),
        }
    }

    /// Text pasted while a form is open goes into its focused field, and
    /// into the filter editor's text; the export prompt has no field and
    /// refuses it (a paste must never load a key behind an open dialog).
    pub fn paste_into_form(&mut self, case: &mut LiveCase, text: &str) -> PaneOutput {
        match &mut self.modal {
            Modal::Form(f) => f.0.insert_str(text),
            Modal::Editor(ed) => {
                ed.row = EditorRow::Text;
                ed.input = Input::new(format!("{}{}", ed.input.value(), text.trim()));
                self.view.filter.text = ed.input.value().to_string();
                self.refilter(case);
            }
            Modal::ExportPrompt => {
                return PaneOutput::error(
                    "paste ignored: the export prompt is open (c CSV · j JSON · Esc cancels)",
                );
            }
            Modal::None => {}
        }
        PaneOutput::none()
    }

    fn form_key(&mut self, k: KeyEvent, ctx: &PaneCtx) -> PaneOutput {
        let Some((form, _)) = self.form_mut() else {
            return PaneOutput::none();
        };
        match form.on_key(k) {
            FormOutcome::Editing => PaneOutput::none(),
            FormOutcome::Cancelled => {
                self.modal = Modal::None;
                PaneOutput::toast("cancelled: nothing was sent")
            }
            FormOutcome::Submitted => self.submit_form(ctx),
        }
    }

    /// Validate the form; a valid one becomes a request to confirm.
    fn submit_form(&mut self, ctx: &PaneCtx) -> PaneOutput {
        let Modal::Form(open) = &mut self.modal else {
            return PaneOutput::none();
        };
        let (form, purpose) = &mut **open;
        let built = match purpose {
            FormPurpose::Consume { key, product, have } => match form.value(0).parse::<u32>() {
                Ok(q) if q >= 1 && (*have < 0 || i64::from(q) <= *have) => {
                    let mut req = WriteRequest::consume(key, product, Some(q), None);
                    if *have >= 0 {
                        req = req.with_expected_effect(format!(
                            "balance of {product} {have} → {}",
                            *have - i64::from(q)
                        ));
                    }
                    Ok((req, product.clone(), "POST /v8.0/collections/consume"))
                }
                Ok(q) if q >= 1 => Err(format!("the balance is {have}: cannot remove {q}")),
                _ => Err("quantity: a whole number, 1 or more".to_string()),
            },
            FormPurpose::Grant { key } => {
                // A catalog product's sku and availability, where the id was
                // typed (or changed) and they were not.
                let grantable = ctx
                    .conn
                    .as_ref()
                    .map(|c| c.grantable.as_slice())
                    .unwrap_or_default();
                if let Some(g) = catalog_match(grantable, form.value(0)) {
                    let fill = [(1, g.sku_id.clone()), (2, g.availability_id.clone())];
                    let product_changed = form.value(2) != g.availability_id
                        && grantable.iter().any(|o| o.availability_id == form.value(2));
                    for (i, v) in fill {
                        if form.value(i).is_empty() || product_changed {
                            form.fields[i].input = tui_input::Input::new(v);
                        }
                    }
                }
                let quantity = form.value(5).parse::<u32>();
                let missing = (0..5).find(|&i| form.value(i).is_empty());
                let kind = catalog_match(grantable, form.value(0)).map(|g| g.kind.as_str());
                let restricted = quantity
                    .as_ref()
                    .ok()
                    .and_then(|q| crate::store::purchase::grant_quantity_refusal(kind, *q));
                match (missing, quantity) {
                    (Some(i), _) => Err(format!("{} is required", form.fields[i].label)),
                    (None, Ok(_)) if restricted.is_some() => Err(restricted.unwrap_or_default()),
                    (None, Ok(q)) if q >= 1 => {
                        let p = GrantParams {
                            product_id: form.value(0).to_string(),
                            sku_id: form.value(1).to_string(),
                            availability_id: form.value(2).to_string(),
                            market: form.value(3).to_string(),
                            language: form.value(4).to_string(),
                            quantity: q,
                            dev_offer_id: None,
                        };
                        let product = p.product_id.clone();
                        Ok((
                            WriteRequest::grant(key, &p, None),
                            product,
                            "POST /v6.0/purchases/grant",
                        ))
                    }
                    _ => Err("quantity: a whole number, 1 or more".to_string()),
                }
            }
        };
        match built {
            Ok((req, product, endpoint)) => {
                self.modal = Modal::None;
                self.confirm(req, product, endpoint, ctx)
            }
            Err(e) => {
                form.error = Some(e);
                PaneOutput::none()
            }
        }
    }

    fn editor_key(&mut self, case: &mut LiveCase, k: KeyEvent) -> PaneOutput {
        let Modal::Editor(ed) = &mut self.modal else {
            return PaneOutput::none();
        };
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        // Form keys and the reset come before the text row; the choice keys
        // only after it, so they can still be typed into the text.
        let cmd = keymap::lookup(&k, Scope::Forms).or_else(|| {
            let own = keymap::lookup(&k, Scope::FilterEditor);
            (ed.row != EditorRow::Text || own == Some(Command::FilterReset))
                .then_some(own)
                .flatten()
        });
        match (cmd, k.code) {
            (Some(Command::Cancel | Command::Submit), _) => {
                self.modal = Modal::None;
                return PaneOutput::none();
            }
            (Some(Command::FilterReset), _) => {
                self.view.filter = Default::default();
                ed.input = Input::default();
            }
            (Some(Command::PrevField), _) => {
                ed.row = ed.row.step(-1);
                ed.cursor = 0;
                return PaneOutput::none();
            }
            (Some(Command::NextField), _) => {
                ed.row = ed.row.step(1);
                ed.cursor = 0;
                return PaneOutput::none();
            }
            _ if ed.row == EditorRow::Text => {
                ed.input.handle_event(&Event::Key(k));
                self.view.filter.text = ed.input.value().to_string();
            }
            (Some(Command::ChoicePrev), _) => {
                ed.cursor = ed.cursor.saturating_sub(1);
                return PaneOutput::none();
            }
            (Some(Command::ChoiceNext), _) => {
                let row = ed.row;
                let n = self.editor_options(case, row).len();
                if let Modal::Editor(ed) = &mut self.modal {
                    ed.cursor = (ed.cursor + 1).min(n.saturating_sub(1));
                }
                return PaneOutput::none();
            }
            (Some(Command::ChoiceToggle), _) => {
                let (row, cursor) = (ed.row, ed.cursor);
                self.toggle_option(case, row, cursor);
            }
            (Some(Command::ChoiceClear), _) => {
                let f = &mut self.view.filter;
                match ed.row {
                    EditorRow::Status => f.statuses.clear(),
                    EditorRow::Kind => f.kinds.clear(),
                    EditorRow::Acquisition => f.acquisition = None,
                    EditorRow::Flags => {
                        f.valid_now = false;
                        f.in_trial = false;
                    }
                    EditorRow::Text => {}
                }
            }
            (_, KeyCode::Char(c)) if !ctrl => {
                // Typing on a choice row goes to the text.
                ed.row = EditorRow::Text;
                ed.input.handle_event(&Event::Key(KeyEvent::new(
                    KeyCode::Char(c),
                    KeyModifiers::NONE,
                )));
                self.view.filter.text = ed.input.value().to_string();
            }
            _ => return PaneOutput::none(),
        }
        self.refilter(case);
        PaneOutput::none()
    }

    /// The choices of a filter row: documented values, then any unknown
    /// values this listing holds. `(label, selected)`.
    pub fn editor_options(&self, case: &LiveCase, row: EditorRow) -> Vec<(String, bool)> {
        let f = &self.view.filter;
        let unknown = |known: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = case
                .listing
                .data
                .rows()
                .iter()
                .map(|r| match row {
                    EditorRow::Status => r.status,
                    EditorRow::Kind => r.kind,
                    _ => r.acquisition,
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|s| case.listing.data.sym(s).to_string())
                .filter(|t| !t.is_empty() && !known.iter().any(|k| k.eq_ignore_ascii_case(t)))
                .collect();
            v.dedup();
            v
        };
        match row {
            EditorRow::Text => vec![],
            EditorRow::Status => {
                let mut names: Vec<String> = EntitlementStatus::KNOWN
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                names.extend(unknown(EntitlementStatus::KNOWN));
                names
                    .into_iter()
                    .map(|n| {
                        let v = EntitlementStatus::parse(&n);
                        (v.to_string(), f.statuses.contains(&v))
                    })
                    .collect()
            }
            EditorRow::Kind => {
                let mut names: Vec<String> =
                    ProductKind::KNOWN.iter().map(|s| s.to_string()).collect();
                names.extend(unknown(ProductKind::KNOWN));
                names
                    .into_iter()
                    .map(|n| {
                        let v = ProductKind::parse(&n);
                        (v.to_string(), f.kinds.contains(&v))
                    })
                    .collect()
            }
            EditorRow::Acquisition => {
                let mut out = vec![("any".to_string(), f.acquisition.is_none())];
                let mut names: Vec<String> = AcquisitionType::KNOWN
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                names.extend(unknown(AcquisitionType::KNOWN));
                out.extend(names.into_iter().map(|n| {
                    let v = AcquisitionType::parse(&n);
                    (v.to_string(), f.acquisition.as_ref() == Some(&v))
                }));
                out
            }
            EditorRow::Flags => vec![
                ("valid now".to_string(), f.valid_now),
                ("in trial".to_string(), f.in_trial),
            ],
        }
    }

    fn toggle_option(&mut self, case: &mut LiveCase, row: EditorRow, cursor: usize) {
        let Some((label, _)) = self.editor_options(case, row).into_iter().nth(cursor) else {
            return;
        };
        let raw = label.strip_prefix("other: ").unwrap_or(&label).to_string();
        let f = &mut self.view.filter;
        match row {
            EditorRow::Status => f.toggle_status(EntitlementStatus::parse(&raw)),
            EditorRow::Kind => f.toggle_kind(ProductKind::parse(&raw)),
            EditorRow::Acquisition => {
                f.acquisition = (cursor > 0).then(|| AcquisitionType::parse(&raw));
            }
            EditorRow::Flags => {
                if cursor == 0 {
                    f.valid_now = !f.valid_now;
                } else {
                    f.in_trial = !f.in_trial;
                }
            }
            EditorRow::Text => {}
        }
    }

    /// Set the whole filter at once (tests, the palette).
    pub fn set_filter(&mut self, case: &mut LiveCase, f: crate::browse::Filter) {
        self.view.filter = f;
        self.refilter(case);
    }

    pub fn on_command(&mut self, case: &mut LiveCase, cmd: Command, ctx: &PaneCtx) -> Routed {
        if !matches!(cmd, Command::ToggleValidity | Command::ToggleDuplicates) {
            self.relist_armed = None;
        }
        self.now = ctx.now.timestamp();
        let len = self.view.visible.len();
        let page = self.page_height.max(1);
        if let Some(d) = &mut self.detail {
            let row = d.row;
            let out = match cmd {
                Command::Back => {
                    self.detail = None;
                    PaneOutput::none()
                }
                Command::Up => {
                    d.scroll = d.scroll.saturating_sub(1);
                    PaneOutput::none()
                }
                Command::Down => {
                    d.scroll = d.scroll.saturating_add(1);
                    PaneOutput::none()
                }
                Command::PageUp => {
                    d.scroll = d.scroll.saturating_sub(page as u16);
                    PaneOutput::none()
                }
                Command::PageDown => {
                    d.scroll = d.scroll.saturating_add(page as u16);
                    PaneOutput::none()
                }
                Command::Top => {
                    d.scroll = 0;
                    PaneOutput::none()
                }
                Command::Copy => self.copy_row(case, row),
                Command::Consume => self.ask_consume(case, row, ctx),
                Command::Grant => self.ask_grant(case, Some(row), ctx),
                Command::Refresh => self.want_orders(),
                _ => return Routed::ignored(),
            };
            return Routed::handled(out);
        }
        let out = match cmd {
            Command::Up => {
                self.selected = self.selected.saturating_sub(1);
                PaneOutput::none()
            }
            Command::Down => {
                self.selected = (self.selected + 1).min(len.saturating_sub(1));
                PaneOutput::none()
            }
            Command::PageUp => {
                self.selected = self.selected.saturating_sub(page);
                PaneOutput::none()
            }
            Command::PageDown => {
                self.selected = (self.selected + page).min(len.saturating_sub(1));
                PaneOutput::none()
            }
            Command::Top => {
                self.selected = 0;
                PaneOutput::none()
            }
            Command::Bottom => {
                self.selected = len.saturating_sub(1);
                PaneOutput::none()
            }
            Command::Open => match self.selected_row() {
                Some(row) => {
                    self.detail = Some(Detail { row, scroll: 0 });
                    self.want_orders()
                }
                None => PaneOutput::error("no entitlement selected"),
            },
            Command::Back => {
                if case.listing.is_fetching() {
                    let out = self.cancel_running(case);
                    return Routed::handled(PaneOutput {
                        toast: Some("listing cancelled: r fetches again".into()),
                        ..out
                    });
                }
                if !self.view.filter.is_empty() {
                    self.view.filter = Default::default();
                    self.refilter(case);
                    return Routed::handled(PaneOutput::toast("filter cleared"));
                }
                return Routed::ignored();
            }
            Command::Refresh => {
                if ctx.conn.is_none() {
                    PaneOutput::error("not connected to a Store yet")
                } else {
                    let follow = self.selected_row().and_then(|i| self.row_id(case, i));
                    let kept = matches!(case.listing.fetch, FetchState::Done(_)).then(|| {
                        (
                            std::mem::take(&mut case.listing.data),
                            case.listing.fetch.clone(),
                            case.listing.mode.clone(),
                        )
                    });
                    let out = self.start_fetch(case);
                    case.listing.previous = kept;
                    self.follow = follow;
                    out
                }
            }
            Command::Filter => {
                let input = Input::new(self.view.filter.text.clone());
                self.modal = Modal::Editor(FilterEditor {
                    input,
                    ..FilterEditor::default()
                });
                PaneOutput::none()
            }
            Command::SortNext => {
                let cols = self.shown_columns();
                let i = cols
                    .iter()
                    .position(|c| *c == self.view.sort.column)
                    .map_or(0, |i| (i + 1) % cols.len().max(1));
                if let Some(c) = cols.get(i) {
                    self.view.sort.column = *c;
                    self.view.sort.descending = false;
                }
                self.resort(case);
                PaneOutput::toast(format!("sorted by {}", self.view.sort.column.title()))
            }
            Command::SortReverse => {
                self.view.sort.descending = !self.view.sort.descending;
                self.resort(case);
                PaneOutput::none()
            }
            Command::HideColumn => {
                let c = self.view.sort.column;
                if self.shown_columns().len() <= 1 {
                    return Routed::handled(PaneOutput::error("the last column stays"));
                }
                self.hidden.push(c);
                // Move the sort (the column cursor) to the next shown column.
                let cols = self.shown_columns();
                let next = Column::ALL
                    .iter()
                    .skip_while(|x| **x != c)
                    .find(|x| cols.contains(x))
                    .or_else(|| cols.first())
                    .copied();
                if let Some(n) = next {
                    self.view.sort.column = n;
                }
                self.resort(case);
                PaneOutput::toast(format!("hid {} (H shows every column)", c.title()))
            }
            Command::ShowColumns => {
                self.hidden.clear();
                PaneOutput::none()
            }
            Command::ToggleValidity => {
                if let Some(ask) = self.relist_guard(case, cmd, "V") {
                    return Routed::handled(ask);
                }
                self.validity = match self.validity {
                    ValidityType::All => ValidityType::Valid,
                    ValidityType::Valid => ValidityType::Invalid,
                    _ => ValidityType::All,
                };
                self.refetch_for_option(case, ctx)
            }
            Command::ToggleDuplicates => {
                if let Some(ask) = self.relist_guard(case, cmd, "D") {
                    return Routed::handled(ask);
                }
                self.exclude_duplicates = !self.exclude_duplicates;
                self.refetch_for_option(case, ctx)
            }
            Command::Export => {
                if self.view.visible.is_empty() {
                    PaneOutput::error("nothing to export: no rows are shown")
                } else {
                    self.modal = Modal::ExportPrompt;
                    PaneOutput::none()
                }
            }
            Command::Copy => match self.selected_row() {
                Some(r) => self.copy_row(case, r),
                None => PaneOutput::error("nothing to copy: no row selected"),
            },
            // A grant needs no owned row: the catalog's free products are
            // offered (a customer who owns nothing is not a dead end).
            Command::Grant => self.ask_grant(case, self.selected_row(), ctx),
            Command::Consume => {
                let Some(r) = self.selected_row() else {
                    return Routed::handled(PaneOutput::error(
                        "select an entitlement first (Enter opens its detail)",
                    ));
                };
                self.ask_consume(case, r, ctx)
            }
            _ => return Routed::ignored(),
        };
        Routed::handled(out)
    }

    /// A new customer's listing starts unfiltered.
    fn forget_filters(&mut self) {
        self.view.filter = Default::default();
        self.validity = ValidityType::All;
        self.exclude_duplicates = false;
        self.relist_armed = None;
        if let Modal::Editor(_) = self.modal {
            self.modal = Modal::None;
        }
    }

    /// The list's title: every filter and every Store-side toggle, then
    /// the counts ("All · Store: valid only · no duplicates — 6 of 6").
    pub fn title(&self, case: &LiveCase) -> String {
        let mut t = self.view.filter.describe();
        match self.validity {
            ValidityType::All => {}
            ValidityType::Valid => t.push_str(" · Store: valid only"),
            _ => t.push_str(" · Store: invalid only"),
        }
        if self.exclude_duplicates {
            t.push_str(" · no duplicates");
        }
        format!(
            "{t} — {} of {}",
            crate::browse::thousands(self.view.visible.len()),
            crate::browse::thousands(case.listing.data.len())
        )
    }

    /// What listing again would cost (the last listing's pages) and the
    /// calls left, when that is more than a fifth of what is left.
    fn costly_relist(&self, case: &LiveCase) -> Option<(u32, u32)> {
        let FetchState::Done(p) = &case.listing.fetch else {
            return None;
        };
        let left = p.calls_left?;
        (p.pages.saturating_mul(5) > left).then_some((p.pages, left))
    }

    /// V and D list again: when that would spend more than a fifth of the
    /// customer's calls left, the first press says so and a second goes on.
    fn relist_guard(&mut self, case: &mut LiveCase, cmd: Command, key: &str) -> Option<PaneOutput> {
        match self.costly_relist(case) {
            Some((cost, left)) if self.relist_armed != Some(cmd) => {
                self.relist_armed = Some(cmd);
                Some(PaneOutput::toast(format!(
                    "{key} lists again: about {cost} call(s) of the {left} this customer has left — press {key} again to go on"
                )))
            }
            _ => {
                self.relist_armed = None;
                None
            }
        }
    }

    fn refetch_for_option(&mut self, case: &mut LiveCase, ctx: &PaneCtx) -> PaneOutput {
        let what = format!(
            "validityType {} · excludeDuplicates {}",
            self.validity, self.exclude_duplicates
        );
        if case.listing.fetched_key.is_none() || ctx.conn.is_none() {
            return PaneOutput::toast(format!("{what} (used by the next listing)"));
        }
        let mut out = self.start_fetch(case);
        out.toast = Some(format!("{what}: listing again"));
        out
    }

    /// Whether the detail wants the case's orders and nobody asked yet:
    /// the Orders pane reads them (once per key, as the docs ask).
    pub fn wants_orders(&self, case: &LiveCase) -> bool {
        self.wants_orders
            && case.purchase_key().is_some()
            && matches!(case.orders.load, crate::case::read::Load::Idle)
    }

    fn want_orders(&mut self) -> PaneOutput {
        self.wants_orders = true;
        PaneOutput::none()
    }

    fn copy_row(&self, case: &LiveCase, row: u32) -> PaneOutput {
        let Some(r) = case.listing.data.row(row) else {
            return PaneOutput::error("that row is gone");
        };
        PaneOutput::effect(Effect::Copy {
            text: case.listing.data.raw_json(r),
            label: format!("entitlement {} (JSON)", case.listing.data.sym(r.product)),
        })
    }

    fn export(&self, case: &LiveCase, f: Format, ctx: &PaneCtx) -> PaneOutput {
        let rows = self.view.visible.len();
        // A partial listing says so in its file (issue 16).
        let incomplete = match &case.listing.fetch {
            FetchState::Cancelled(p) => Some((p.items, "a cancel".to_string())),
            FetchState::Failed(p, m) => Some((p.items, format!("an error ({m})"))),
            _ => None,
        }
        .map(|(got, stopped_by)| export::Incomplete { got, stopped_by });
        let content: Arc<str> = export::to_string(
            f,
            &case.listing.data,
            &self.view.visible,
            incomplete.as_ref(),
        )
        .into();
        let who = case
            .listing
            .key_fingerprint()
            .unwrap_or_else(|| "nokey".into());
        let file_name = format!(
            "entitlements-{who}-{}.{}",
            ctx.now.format("%Y%m%d-%H%M%S"),
            f.extension()
        );
        PaneOutput::effect(ent_job(EntJob::Export {
            file_name,
            content,
            rows,
        }))
    }

    fn ask_consume(&mut self, case: &mut LiveCase, row: u32, ctx: &PaneCtx) -> PaneOutput {
        let Some(key) = case.listing.fetched_key.clone() else {
            return PaneOutput::error("no collections key in the case");
        };
        let Some(r) = case.listing.data.row(row) else {
            return PaneOutput::error("that row is gone");
        };
        if self.writing {
            return PaneOutput::error("a write is already under way");
        }
        let product = case.listing.data.sym(r.product).to_string();
        let kind = ProductKind::parse(case.listing.data.sym(r.kind));
        let quantity = match kind {
            ProductKind::Consumable => Some(1),
            ProductKind::UnmanagedConsumable => None,
            other => {
                return PaneOutput::error(format!(
                    "only consumables can be consumed; {product} is {}",
                    if case.listing.data.sym(r.kind).is_empty() {
                        "of no stated kind".to_string()
                    } else {
                        other.to_string()
                    }
                ));
            }
        };
        if quantity.is_some() {
            // Store-managed: ask how many to remove before showing the request.
            let have = if r.quantity == crate::browse::data::NONE {
                -1
            } else {
                r.quantity
            };
            self.modal = Modal::Form(Box::new((
                Form::new(
                    format!("Consume {product}"),
                    &[("quantity", "how many to remove", "1")],
                ),
                FormPurpose::Consume { key, product, have },
            )));
            return PaneOutput::none();
        }
        let req = WriteRequest::consume(&key, &product, None, None).with_expected_effect(format!(
            "{product} reported fulfilled (unmanaged consumable)"
        ));
        self.confirm(req, product, "POST /v8.0/collections/consume", ctx)
    }

    fn ask_grant(&mut self, case: &mut LiveCase, row: Option<u32>, ctx: &PaneCtx) -> PaneOutput {
        let Some(key) = case.purchase_key() else {
            return PaneOutput::error(
                "a grant needs the customer's UserPurchaseId: paste it in the Key pane (1)",
            );
        };
        if self.writing {
            return PaneOutput::error("a write is already under way");
        }
        let grantable = ctx
            .conn
            .as_ref()
            .map(|c| c.grantable.as_slice())
            .unwrap_or_default();
        // The selected row's product, else the catalog's first free one.
        let (product, sku) = row
            .and_then(|row| case.listing.data.row(row))
            .map(|r| {
                (
                    case.listing.data.sym(r.product).to_string(),
                    case.listing.data.sym(r.sku).to_string(),
                )
            })
            .or_else(|| {
                grantable
                    .first()
                    .map(|g| (g.product_id.clone(), g.sku_id.clone()))
            })
            .unwrap_or_default();
        let availability = catalog_match(grantable, &product)
            .map(|g| g.availability_id.clone())
            .unwrap_or_default();
        let intro = if grantable.is_empty() {
            vec!["Type the product id of a free product (no catalog is known here).".to_string()]
        } else {
            let mut lines = vec![
                "Free in the catalog (type its id; sku and availability fill in):".to_string(),
            ];
            lines.extend(
                grantable
                    .iter()
                    .map(|g| format!("  {}  {} ({})", g.product_id, g.title, g.kind)),
            );
            lines
        };
        let mut form = Form::new(
            "Grant a free product",
            &[
                ("productId", "Store ID", &product),
                ("skuId", "e.g. 0010", &sku),
                (
                    "availabilityId",
                    "from Partner Center (free availability)",
                    &availability,
                ),
                ("market", "e.g. US", "US"),
                ("language", "e.g. en-US", "en-US"),
                ("quantity", "1 or more", "1"),
            ],
        );
        form.intro = intro;
        // The docs' restriction, said before it is typed against.
        form.intro
            .push("An UnmanagedConsumable is granted with quantity 1 only.".to_string());
        self.modal = Modal::Form(Box::new((
            form,
            FormPurpose::Grant {
                key: key.to_string(),
            },
        )));
        PaneOutput::none()
    }

    fn confirm(
        &mut self,
        req: WriteRequest,
        product: String,
        endpoint: &str,
        ctx: &PaneCtx,
    ) -> PaneOutput {
        let mut title = req.summary.clone();
        if let Some(c) = title.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
        let user = crate::store::keyinfo::user_id(&req.customer_key);
        let dialog = ConfirmDialog::for_write(
            title,
            &req.preview(&ctx.actor),
            user.as_deref(),
            endpoint.to_string(),
            Some(product),
            ent_job(EntJob::Write(req)),
        );
        PaneOutput {
            confirm: Some(Box::new(dialog)),
            ..PaneOutput::none()
        }
    }

    /// Look up the titles of the listed products not known yet.
    fn ask_titles(&self, case: &LiveCase) -> Option<Effect> {
        let mut ids: Vec<String> = (0..case.listing.data.len() as u32)
            .filter_map(|i| case.listing.data.row(i))
            .map(|r| case.listing.data.sym(r.product).to_ascii_uppercase())
            .filter(|id| !case.titles.contains_key(id))
            .collect();
        ids.sort();
        ids.dedup();
        (!ids.is_empty()).then(|| ent_job(EntJob::Titles(ids)))
    }

    pub fn on_job_started(&mut self, job: &EntJob) {
        if let EntJob::Write(_) = job {
            self.writing = true;
        }
    }
}

impl EntitlementsPane {
    /// The pane changed the case's listing (or may have): say so, so the
    /// views built from it (the Timeline) rebuild.
    fn touched(&mut self, case: &mut LiveCase) {
        case.listing.generation += 1;
        self.seen = case.listing.generation;
    }
}

impl super::Pane for EntitlementsPane {
    fn id(&self) -> super::PaneId {
        super::PaneId::Entitlements
    }
    fn on_key(
        &mut self,
        k: crossterm::event::KeyEvent,
        case: &mut LiveCase,
        ctx: &super::PaneCtx,
    ) -> Option<super::PaneOutput> {
        EntitlementsPane::on_key(self, case, k, ctx)
    }
    fn on_command(
        &mut self,
        cmd: crate::tui::keymap::Command,
        case: &mut LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::Routed {
        let routed = EntitlementsPane::on_command(self, case, cmd, ctx);
        if !routed.output.effects.is_empty() {
            self.touched(case);
        }
        routed
    }
    fn accepts_text(&self) -> bool {
        !matches!(self.modal, Modal::None)
    }
    fn on_paste(
        &mut self,
        text: String,
        case: &mut LiveCase,
        _ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        self.paste_into_form(case, &text)
    }
    fn on_event(
        &mut self,
        ev: super::PaneEvent,
        case: &mut LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        match ev {
            super::PaneEvent::Entitlements(e) => {
                let out = EntitlementsPane::on_event(self, case, e, ctx);
                self.touched(case);
                out
            }
            _ => super::PaneOutput::none(),
        }
    }
    fn on_job_started(&mut self, job: &super::PaneJob, _case: &mut LiveCase) {
        if let super::PaneJob::Entitlements(j) = job {
            EntitlementsPane::on_job_started(self, j)
        }
    }
    fn on_job_crashed(&mut self, message: &str, case: &mut LiveCase) {
        self.writing = false;
        if let FetchState::Running { progress, .. } = &case.listing.fetch {
            case.listing.fetch =
                FetchState::Failed(*progress, format!("internal error: {message}"));
            self.touched(case);
        }
    }
    fn fit(&mut self, body: ratatui::layout::Rect, case: &LiveCase) {
        let rows = super::entitlements_view::table_rows(self, case, body);
        self.page_height = rows.max(1);
        self.offset = crate::tui::widgets::table::scroll_offset(
            self.offset,
            Some(self.selected),
            rows,
            self.view.visible.len(),
        );
    }
    fn draw(&self, f: &mut ratatui::Frame, area: ratatui::layout::Rect, ctx: &super::DrawCtx) {
        super::entitlements_view::view(f, area, ctx.theme, self, ctx)
    }
}

/// The catalog's grantable product with this id, if any.
fn catalog_match<'a>(
    grantable: &'a [crate::sandbox::GrantableProduct],
    product_id: &str,
) -> Option<&'a crate::sandbox::GrantableProduct> {
    grantable
        .iter()
        .find(|g| g.product_id.eq_ignore_ascii_case(product_id.trim()))
}
