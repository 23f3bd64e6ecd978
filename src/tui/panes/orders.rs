//! The Orders pane: the customer's consumable orders of the last 90 days
//! (orders query, UserPurchaseId), one row per line item.
//!
//! The docs ask for at most one orders query a day per customer, so the pane
//! reads once per purchase key, when it first comes on screen, and again only
//! on `r` — which asks twice within a day. The read goes through
//! `case::load::orders_once_a_day`: within a day of an earlier read (this
//! console's or another storedesk's on the same data dir) that answer is
//! shown, with its age; the second `r` reads the Store again.

use crate::case::live::LiveCase;
use crate::case::read::{Failure, Load};
use crate::store::model::{Order, OrderLineItem};
use crate::tui::action::Effect;
use crate::tui::keymap::Command;
use crate::tui::panes::empty::draw_empty;
use crate::tui::panes::list::{self, Cursor, Shown};
use crate::tui::panes::{PaneCtx, PaneId, PaneJob, PaneOutput, Routed};
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{self, TableColumn, TableSpec};
use chrono::{DateTime, Duration, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use std::borrow::Cow;

#[derive(Clone, PartialEq)]
pub enum OrdersJob {
    /// Every page of the orders query for `key` (a UserPurchaseId); today's
    /// earlier read will do unless `refresh`.
    Load {
        load_id: u64,
        key: String,
        refresh: bool,
    },
}

impl std::fmt::Debug for OrdersJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrdersJob::Load {
                load_id,
                key,
                refresh,
            } => write!(
                f,
                "Load {{ load_id: {load_id}, key: {}, refresh: {refresh} }}",
                crate::keys::fingerprint(key)
            ),
        }
    }
}

#[derive(Debug)]
pub enum OrdersEvent {
    /// Read from the Store just now.
    Loaded {
        load_id: u64,
        result: Result<Vec<Order>, Failure>,
    },
    /// Read once a day: maybe an earlier read, with its time.
    Read {
        load_id: u64,
        result: Result<crate::store::orders_cache::OrdersRead, Failure>,
    },
}

const COLUMNS: &[TableColumn] = &[
    TableColumn {
        title: "orderId",
        min: 8,
        max: 36,
        right: false,
    },
    TableColumn {
        title: "purchased",
        min: 10,
        max: 10,
        right: false,
    },
    TableColumn {
        title: "refunded",
        min: 10,
        max: 10,
        right: false,
    },
    TableColumn {
        title: "product",
        min: 8,
        max: 14,
        right: false,
    },
    TableColumn {
        title: "sku",
        min: 4,
        max: 6,
        right: false,
    },
    TableColumn {
        title: "qty",
        min: 3,
        max: 5,
        right: true,
    },
    TableColumn {
        title: "state",
        min: 7,
        max: 12,
        right: false,
    },
    TableColumn {
        title: "qty revoked",
        min: 3,
        max: 11,
        right: false,
    },
    TableColumn {
        title: "amount",
        // Never at the cost of the ids at 80 columns: the detail always
        // shows the amounts.
        min: 0,
        max: 14,
        right: true,
    },
];

/// A table row: an order (index) and one of its line items (index), or
/// `None` for an order without line items.
type Row = (usize, Option<usize>);

/// How long the docs want between two orders queries for one customer.
const ONCE_A_DAY: i64 = 24 * 3600;

/// A view of the case's orders: the rows, the filter and the cursor.
pub struct OrdersPane {
    /// The case's (customer, generation) the rows were made from.
    seen: (u64, u64),
    /// One per line item: (order index, line index); an order without
    /// line items gets one row with `None`.
    all_rows: Vec<Row>,
    /// Which of those pass the filter: what the table shows.
    pub shown: Shown,
    pub cursor: Cursor,
    /// `r` pressed once within a day of the last read: the next `r` reads.
    refresh_armed: bool,
    now: DateTime<Utc>,
}

impl Default for OrdersPane {
    fn default() -> Self {
        Self {
            seen: (0, 0),
            all_rows: Vec::new(),
            shown: Shown::default(),
            cursor: Cursor::default(),
            refresh_armed: false,
            now: DateTime::<Utc>::UNIX_EPOCH,
        }
    }
}

impl OrdersPane {
    /// After every update: follow the case — drop the view of another
    /// customer, remake the rows when the orders changed — and read the
    /// orders the first time the pane is on screen with a key.
    pub fn sync(&mut self, focused: bool, case: &mut LiveCase, ctx: &PaneCtx) -> PaneOutput {
        self.now = ctx.now;
        self.catch_up(case);
        if case.orders.wants_first_load(focused) {
            return self.start_load(case, false);
        }
        PaneOutput::none()
    }

    fn catch_up(&mut self, case: &LiveCase) {
        let read = &case.orders;
        if read.customer != self.seen.0 {
            self.all_rows.clear();
            self.shown = Shown::default();
            self.cursor.reset();
            self.refresh_armed = false;
        }
        if (read.customer, read.generation) != self.seen {
            self.seen = (read.customer, read.generation);
            let keep = self.current_row();
            self.all_rows = read.data().map(|o| rows_of(o)).unwrap_or_default();
            self.refilter(keep, case);
        }
    }

    /// Another pane needs the orders: read them now if nobody has.
    pub fn ensure_loaded(&mut self, case: &mut LiveCase) -> PaneOutput {
        if matches!(case.orders.load, Load::Idle) && case.orders.key().is_some() {
            return self.start_load(case, false);
        }
        PaneOutput::none()
    }

    fn start_load(&mut self, case: &mut LiveCase, refresh: bool) -> PaneOutput {
        let (load_id, key) = match case.orders.begin() {
            Ok(x) => x,
            Err(why) => return PaneOutput::error(why),
        };
        self.refresh_armed = false;
        PaneOutput::effect(Effect::Pane(
            PaneId::Orders,
            PaneJob::Orders(OrdersJob::Load {
                load_id,
                key,
                refresh,
            }),
        ))
    }

    pub fn on_event(&mut self, ev: OrdersEvent, case: &mut LiveCase, ctx: &PaneCtx) -> PaneOutput {
        let (load_id, result, at, cached) = match ev {
            OrdersEvent::Read { load_id, result } => match result {
                Ok(r) => (load_id, Ok(r.orders), r.read_at, r.cached),
                Err(f) => (load_id, Err(f), ctx.now, false),
            },
            OrdersEvent::Loaded { load_id, result } => (load_id, result, ctx.now, false),
        };
        if case.orders.load.awaits(load_id) {
            case.orders_from_cache = cached;
        }
        let result = result.map(|mut orders| {
            // Newest first; undated orders last.
            orders.sort_by(|a, b| {
                let t = |o: &Order| o.order_purchased_date.as_ref().map(|t| t.0);
                t(b).cmp(&t(a))
            });
            orders
        });
        // `None`: an answer for a key no longer in the case.
        let settled = case.orders.settle(load_id, result, at, "orders");
        self.catch_up(case);
        match settled {
            Some(Err(msg)) => PaneOutput::error(msg),
            _ => PaneOutput::none(),
        }
    }

    /// The row under the cursor.
    fn current_row(&self) -> Option<Row> {
        self.all_rows
            .get(self.shown.item(self.cursor.selected)?)
            .copied()
    }

    /// The rows that pass the filter; the cursor stays on `keep` if shown.
    fn refilter(&mut self, keep: Option<Row>, case: &LiveCase) {
        let orders = case.orders.data().map(Vec::as_slice).unwrap_or(&[]);
        let rows = &self.all_rows;
        let titles = &case.titles;
        self.shown.refilter(
            rows.len(),
            |i| {
                let r = rows[i];
                let mut cells: Vec<Cow<'_, str>> = (0..COLUMNS.len())
                    .map(|c| cell_text(orders, r, c, titles))
                    .collect();
                // Not a column, but what a clawback names.
                if let Some(line) = r.1.and_then(|l| orders.get(r.0)?.order_line_items.get(l)) {
                    cells.push(Cow::Borrowed(line.line_item_id.as_str()));
                }
                cells
            },
            |i| Some(rows[i]) == keep,
            &mut self.cursor,
        );
    }

    /// Keys while the filter is typed; `None` lets the keymap have them.
    pub fn on_key(&mut self, k: crossterm::event::KeyEvent, case: &LiveCase) -> Option<PaneOutput> {
        if self.shown.filter.on_key(k)? {
            self.refilter(self.current_row(), case);
        }
        Some(PaneOutput::none())
    }

    pub fn accepts_text(&self) -> bool {
        self.shown.filter.typing
    }

    pub fn on_paste(&mut self, text: &str, case: &LiveCase) {
        if self.shown.filter.paste(text) {
            self.refilter(self.current_row(), case);
        }
    }

    pub fn on_command(&mut self, cmd: Command, case: &mut LiveCase) -> Routed {
        if cmd != Command::Refresh {
            self.refresh_armed = false;
        }
        if self.cursor.on_command(cmd, self.shown.len()) {
            return Routed::handled(PaneOutput::none());
        }
        if let Some(changed) = self.shown.filter.on_command(cmd) {
            if changed {
                self.refilter(self.current_row(), case);
            }
            return Routed::handled(PaneOutput::none());
        }
        let out = match cmd {
            Command::Refresh => self.refresh(case),
            Command::Copy => match self.current(case) {
                Some((o, _)) => PaneOutput::effect(Effect::Copy {
                    text: serde_json::to_string_pretty(o).unwrap_or_default(),
                    label: format!("order {}", o.order_id),
                }),
                None => PaneOutput::error("nothing to copy"),
            },
            _ => return Routed::ignored(),
        };
        Routed::handled(out)
    }

    /// `r`: read again, but ask first if the last read is less than a day old.
    fn refresh(&mut self, case: &mut LiveCase) -> PaneOutput {
        if case.orders.load.is_loading() {
            return PaneOutput::toast("the orders are being read already");
        }
        if let Some(at) = case.orders.load.loaded_at() {
            let age = self.now.signed_duration_since(at);
            if age < Duration::seconds(ONCE_A_DAY) && !self.refresh_armed {
                self.refresh_armed = true;
                return PaneOutput::toast(format!(
                    "orders were read {} ago; the docs ask for at most one orders query a day per customer — press r again to read them anyway",
                    crate::keys::human_duration(age)
                ));
            }
        }
        self.start_load(case, true)
    }

    /// The order and line item under the cursor.
    pub fn current<'c>(
        &self,
        case: &'c LiveCase,
    ) -> Option<(&'c Order, Option<&'c OrderLineItem>)> {
        let (o, l) = self.current_row()?;
        let order = case.orders.data()?.get(o)?;
        Some((order, l.and_then(|l| order.order_line_items.get(l))))
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme, case: &LiveCase) {
        let read = &case.orders;
        let (headline, next) = match (read.key(), &read.load) {
            (None, _) => (
                "No purchase key in this case.".to_string(),
                "Orders need the customer's UserPurchaseId: paste it in the Key pane (1), or press d there for a demo customer.".to_string(),
            ),
            (Some(_), Load::Idle) if !read.connected() => (
                "Waiting for the Store connection…".to_string(),
                "The orders are read as soon as the console is connected.".to_string(),
            ),
            (Some(_), Load::Idle) => (
                "Orders not read yet.".to_string(),
                "They are read when this pane is on screen (once per key; r reads again).".to_string(),
            ),
            (Some(_), Load::Loading { .. }) => (
                "Reading the orders of the last 90 days…".to_string(),
                "One orders query, all pages (the docs ask for at most one a day per customer)."
                    .to_string(),
            ),
            (Some(_), Load::Failed(fail)) => (
                "The orders could not be read.".to_string(),
                format!("{} · r tries again", fail.line()),
            ),
            (Some(_), Load::Loaded { at, data }) if data.is_empty() => (
                "No orders in the last 90 days.".to_string(),
                format!(
                    "The orders query returns consumable purchases of the last 90 days only; older ones are not listed. Read {} UTC; r reads again (at most once a day per customer, say the docs).",
                    at.format("%Y-%m-%d %H:%M")
                ),
            ),
            (Some(_), Load::Loaded { .. }) => {
                self.draw_table(f, area, theme, case);
                return;
            }
        };
        draw_empty(f, area, theme, &headline, &next);
    }

    /// The header line and the table, as `draw_table` lays them out.
    fn layout(area: Rect) -> [Rect; 2] {
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area)
    }

    /// Keep the selected row on screen in a pane of `area`.
    pub fn fit(&mut self, area: Rect) {
        let [_, body] = Self::layout(area);
        self.cursor
            .fit(usize::from(body.height.saturating_sub(1)), self.shown.len());
    }

    fn draw_table(&self, f: &mut Frame, area: Rect, theme: &Theme, case: &LiveCase) {
        let [head, body] = Self::layout(area);
        let orders = case.orders.data().map(Vec::as_slice).unwrap_or(&[]);
        let who = case
            .orders
            .key()
            .and_then(crate::store::keyinfo::user_id)
            .unwrap_or_else(|| "customer".into());
        let refunded = orders
            .iter()
            .filter(|o| o.order_refunded_date.is_some())
            .count();
        let lines = self.shown.count(self.all_rows.len(), "lines");
        // An earlier read says its age: the docs ask for one a day.
        let read = match case.orders.load.loaded_at() {
            Some(at) if case.orders_from_cache => crate::case::load::orders_age(at, self.now),
            at => format!("read {} UTC", list::when(at)),
        };
        let facts = format!(
            "{who} · {} orders · {lines} · {refunded} refunded · last 90 days · {read}",
            orders.len(),
        );
        list::header(
            f,
            head,
            theme,
            "Orders",
            &facts,
            &crate::tui::keymap::hints(&[
                (&[Command::Open], "detail"),
                (&[Command::Filter], "filter"),
                (&[Command::Copy], "copy"),
                (&[Command::Refresh], "re-read (≤ once a day)"),
            ]),
        );
        let (columns, titles) = list::with_titles(COLUMNS, &case.titles, body.width);
        let spec = TableSpec {
            columns: &columns,
            len: self.shown.len(),
            selected: Some(self.cursor.selected),
            sort: None,
            offset: self.cursor.offset,
        };
        let (rows, shown) = (&self.all_rows, &self.shown);
        let row_at = |r: usize| shown.item(r).and_then(|i| rows.get(i));
        let cell = |r: usize, c: usize| -> Cow<'_, str> {
            match row_at(r) {
                Some(&row) => cell_text(orders, row, c, titles),
                None => Cow::Borrowed(""),
            }
        };
        let style = |r: usize| -> Style {
            let line = row_at(r).and_then(|&(o, l)| {
                orders
                    .get(o)
                    .and_then(|o| l.and_then(|l| o.order_line_items.get(l)))
            });
            match line.map(|l| l.line_item_state.as_ref().map(|s| s.as_str())) {
                Some(Some("Refunded")) => theme.warn(),
                Some(Some("Revoked")) => theme.bad(),
                _ => Style::default(),
            }
        };
        table::render(f, body, theme, &spec, &cell, &style);
        if self.cursor.detail
            && let Some((o, _)) = self.current(case)
        {
            self.draw_detail(f, body, theme, o);
        }
    }

    fn draw_detail(&self, f: &mut Frame, area: Rect, theme: &Theme, o: &Order) {
        let now = self.now;
        let t = |x: &Option<crate::store::model::StoreTime>| match x {
            Some(t) => format!(
                "{} UTC ({})",
                list::when(Some(t.0)),
                list::rel(Some(t.0), now)
            ),
            None => "—".into(),
        };
        let rows = vec![
            ("orderId".to_string(), o.order_id.clone()),
            (
                "shortOrderId".to_string(),
                o.short_order_id.clone().unwrap_or_else(|| "—".into()),
            ),
            ("purchased".to_string(), t(&o.order_purchased_date)),
            ("refunded".to_string(), t(&o.order_refunded_date)),
            (
                "total".to_string(),
                o.total_amount
                    .map(|a| money(a, o.currency_code.as_deref()))
                    .unwrap_or_else(|| "—".into()),
            ),
        ];
        let mut extra = vec![Line::default()];
        for l in &o.order_line_items {
            extra.push(Line::from(vec![
                Span::styled(format!("{:<20}", "line item"), theme.dim()),
                Span::raw(l.line_item_id.clone()),
            ]));
            let revoked = match l.was_consumable_quantity_revoked {
                Some(true) => " · consumable quantity was revoked",
                Some(false) => " · consumable quantity not revoked",
                None => "",
            };
            extra.push(Line::from(vec![
                Span::raw(" ".repeat(20)),
                Span::raw(format!(
                    "{} / {} × {}{} · {}{revoked}",
                    l.product_id,
                    l.sku_id,
                    l.quantity,
                    // Unit price and tax, so a charge can be checked by hand.
                    l.list_price
                        .map(|p| {
                            let cur = l.currency_code.as_deref().or(o.currency_code.as_deref());
                            format!(
                                " at {} + tax {}",
                                money(p, cur),
                                money(l.tax_amount.unwrap_or(0.0), cur)
                            )
                        })
                        .unwrap_or_default(),
                    state_text(l)
                )),
            ]));
        }
        if o.order_line_items.is_empty() {
            extra.push(Line::from(Span::styled(
                "this order lists no line items",
                theme.dim(),
            )));
        }
        list::detail_box(
            f,
            area,
            theme,
            &format!("Order {}", o.order_id),
            &rows,
            &extra,
        );
    }
}

/// Column `c` of table row `row` (an order and maybe one of its lines):
/// what the table draws and the filter searches.
fn cell_text<'a>(orders: &'a [Order], row: Row, c: usize, titles: &list::Titles) -> Cow<'a, str> {
    let (o, l) = row;
    let Some(o) = orders.get(o) else {
        return Cow::Borrowed("");
    };
    let l = l.and_then(|l| o.order_line_items.get(l));
    match (c, l) {
        (0, _) => Cow::Borrowed(o.order_id.as_str()),
        (1, _) => Cow::Owned(list::day(o.order_purchased_date.as_ref().map(|t| t.0))),
        (2, _) => Cow::Owned(match &o.order_refunded_date {
            Some(t) => list::day(Some(t.0)),
            None => String::new(),
        }),
        (3, None) => Cow::Borrowed("(no line items)"),
        (3, Some(l)) => list::product_label(titles, &l.product_id),
        (4, Some(l)) => Cow::Borrowed(l.sku_id.as_str()),
        (5, Some(l)) => Cow::Owned(l.quantity.to_string()),
        (6, Some(l)) => Cow::Owned(state_text(l)),
        (7, Some(l)) => Cow::Borrowed(match l.was_consumable_quantity_revoked {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        }),
        // What this line cost, tax included, so a double charge shows.
        (8, Some(l)) => Cow::Owned(match l.list_price {
            Some(p) => money(
                p * l.quantity as f64 + l.tax_amount.unwrap_or(0.0),
                l.currency_code.as_deref().or(o.currency_code.as_deref()),
            ),
            None => String::new(),
        }),
        _ => Cow::Borrowed(""),
    }
}

/// `10.78 USD`: two decimals and the ISO currency code when known.
pub fn money(amount: f64, currency: Option<&str>) -> String {
    match currency {
        Some(c) => format!("{amount:.2} {c}"),
        None => format!("{amount:.2}"),
    }
}

fn rows_of(orders: &[Order]) -> Vec<Row> {
    orders
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            let n = o.order_line_items.len();
            let lines: Vec<(usize, Option<usize>)> = if n == 0 {
                vec![(i, None)]
            } else {
                (0..n).map(|l| (i, Some(l))).collect()
            };
            lines
        })
        .collect()
}

fn state_text(l: &OrderLineItem) -> String {
    l.line_item_state
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "—".into())
}

impl super::Pane for OrdersPane {
    fn on_job_crashed(&mut self, message: &str, case: &mut LiveCase) {
        case.orders.crashed(message);
    }
    fn id(&self) -> super::PaneId {
        super::PaneId::Orders
    }
    fn on_key(
        &mut self,
        k: crossterm::event::KeyEvent,
        case: &mut LiveCase,
        _ctx: &super::PaneCtx,
    ) -> Option<super::PaneOutput> {
        OrdersPane::on_key(self, k, case)
    }
    fn on_command(
        &mut self,
        cmd: crate::tui::keymap::Command,
        case: &mut LiveCase,
        _ctx: &super::PaneCtx,
    ) -> super::Routed {
        OrdersPane::on_command(self, cmd, case)
    }
    fn accepts_text(&self) -> bool {
        OrdersPane::accepts_text(self)
    }
    fn on_paste(
        &mut self,
        text: String,
        case: &mut LiveCase,
        _ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        OrdersPane::on_paste(self, &text, case);
        super::PaneOutput::none()
    }
    fn on_event(
        &mut self,
        ev: super::PaneEvent,
        case: &mut LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        match ev {
            super::PaneEvent::Orders(e) => OrdersPane::on_event(self, e, case, ctx),
            _ => super::PaneOutput::none(),
        }
    }
    fn fit(&mut self, body: ratatui::layout::Rect, _case: &LiveCase) {
        OrdersPane::fit(self, body)
    }
    fn draw(&self, f: &mut ratatui::Frame, area: ratatui::layout::Rect, ctx: &super::DrawCtx) {
        self.view(f, area, ctx.theme, ctx.case)
    }
}
