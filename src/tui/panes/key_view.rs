//! Drawing the Key pane.

use crate::keys::{self, Assessment, SignatureStatus, Verdict};
use crate::tui::panes::DrawCtx;
use crate::tui::panes::empty::draw_empty;
use crate::tui::panes::key::{KeyPane, Slot};
use crate::tui::theme::Theme;
use crate::tui::widgets::table::fit;
use chrono::{DateTime, FixedOffset, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

pub fn view(f: &mut Frame, area: Rect, theme: &Theme, pane: &KeyPane, app: &DrawCtx) {
    draw(f, area, theme, pane, app);
    if let super::key::KeyModal::Offers(flow) = &pane.modal {
        flow.view(f, area, theme);
    }
}

fn draw(f: &mut Frame, area: Rect, theme: &Theme, pane: &KeyPane, app: &DrawCtx) {
    let [input_area, strip, rest] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    draw_input(f, input_area, theme, pane);
    draw_case_strip(f, strip, theme, pane);
    let Some((slot, key)) = pane.current() else {
        let demo = app.has_demo_customers;
        draw_empty(
            f,
            rest,
            theme,
            "Paste a User Store ID (Ctrl-V) and press Enter",
            if demo {
                "or press i to type one, or d to load a demo customer of the embedded sandbox."
            } else {
                "or press i to type one. UserCollectionsId and UserPurchaseId keys, Entra service tokens and other JWTs are understood."
            },
        );
        return;
    };
    let a = &key.assessment;
    if pane.raw {
        draw_raw(f, rest, theme, a);
        return;
    }
    let wide = rest.width >= 120;
    let (summary_area, claims_area) = if wide {
        let [l, r] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(rest);
        (l, r)
    } else {
        let want = summary_lines(theme, a, slot, pane, app.now).len() as u16 + 2;
        let [t, b] = Layout::vertical([
            Constraint::Length(want.min(rest.height)),
            Constraint::Min(0),
        ])
        .areas(rest);
        (t, b)
    };
    let lines = summary_lines(theme, a, slot, pane, app.now);
    let title = format!(" {} · {} ", a.kind.as_str(), a.fingerprint);
    f.render_widget(
        Paragraph::new(lines)
            .block(
                Block::bordered()
                    .title(title)
                    .border_style(theme.border_focus()),
            )
            .wrap(Wrap { trim: false }),
        summary_area,
    );
    if claims_area.height > 2 {
        draw_claims(f, claims_area, theme, pane, a);
    }
}

fn draw_input(f: &mut Frame, area: Rect, theme: &Theme, pane: &KeyPane) {
    use crate::tui::keymap::{Command as C, hints};
    let hint = if pane.editing() {
        format!(
            " User Store ID · {} ",
            hints(&[(&[C::Submit], "loads"), (&[C::Cancel], "stops typing")])
        )
    } else {
        format!(
            " User Store ID · {} ",
            hints(&[
                (&[C::EditKey], "type"),
                (&[], "Ctrl-V paste"),
                (&[C::NextKey], "next key"),
                (&[C::RawView], "raw"),
                (&[], ":renew"),
            ])
        )
    };
    let style = if pane.editing() {
        theme.border_focus()
    } else {
        theme.dim()
    };
    let block = Block::bordered().title(hint).border_style(style);
    let inner_w = area.width.saturating_sub(3) as usize;
    let content = match (&pane.input_error, pane.input.value().is_empty()) {
        (Some(e), _) => Line::from(Span::styled(format!("✗ {e}"), theme.bad())),
        (None, true) if !pane.editing() => Line::from(Span::styled(
            "Paste a User Store ID (Ctrl-V) and press Enter",
            theme.dim(),
        )),
        _ => {
            let scroll = pane.input.visual_scroll(inner_w);
            let shown: String = pane
                .input
                .value()
                .chars()
                .skip(scroll)
                .take(inner_w)
                .collect();
            let mut spans = vec![Span::styled("> ", theme.key_hint()), Span::raw(shown)];
            if pane.editing() {
                spans.push(Span::styled("▏", theme.key_hint()));
            }
            Line::from(spans)
        }
    };
    f.render_widget(Paragraph::new(content).block(block), area);
}

fn draw_case_strip(f: &mut Frame, area: Rect, theme: &Theme, pane: &KeyPane) {
    let mut spans = vec![Span::styled(" Case: ", theme.dim())];
    for (slot, info) in pane.case_summary() {
        let current = pane.current().map(|(s, _)| s) == Some(slot);
        let name = if current {
            Span::styled(format!("[{}]", slot.label()), theme.title())
        } else {
            Span::raw(slot.label().to_string())
        };
        spans.push(name);
        match info {
            Some(k) => {
                let v = &k.assessment.verdict;
                spans.push(Span::raw(format!(" {} ", k.assessment.fingerprint)));
                spans.push(Span::styled(v.label().to_string(), verdict_style(theme, v)));
            }
            None => spans.push(Span::styled(" — none", theme.dim())),
        }
        spans.push(Span::raw("   "));
    }
    if pane.other.is_some() {
        let current = pane.current().map(|(s, _)| s) == Some(Slot::Other);
        spans.push(Span::styled(
            if current { "[Other JWT]" } else { "Other JWT" },
            if current {
                theme.title()
            } else {
                Style::default()
            },
        ));
    }
    if let Some(s) = pane.renewing {
        spans.push(Span::styled(
            format!("  renewing {}…", s.label()),
            theme.warn(),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn verdict_style(theme: &Theme, v: &Verdict) -> Style {
    match v {
        Verdict::Valid => theme.good(),
        Verdict::RenewSoon | Verdict::RenewNow => theme.warn(),
        _ => theme.bad(),
    }
}

fn signature_line(theme: &Theme, s: &SignatureStatus) -> Span<'static> {
    match s {
        SignatureStatus::VerifiedSandbox => Span::styled("verified (sandbox)", theme.good()),
        SignatureStatus::NotVerifiableMicrosoft => Span::styled(
            "not verifiable offline: Microsoft publishes no key for it",
            theme.warn(),
        ),
        SignatureStatus::Invalid(why) => {
            Span::styled(format!("signature INVALID — {why}"), theme.bad())
        }
        SignatureStatus::AlgNone => {
            Span::styled("UNSIGNED (alg: none) — do not trust", theme.bad())
        }
        SignatureStatus::NotChecked(why) => {
            Span::styled(format!("not checked — {why}"), theme.dim())
        }
    }
}

fn time_line(
    label: &str,
    t: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    local: Option<FixedOffset>,
    theme: &Theme,
) -> Line<'static> {
    let Some(t) = t else {
        return Line::from(vec![
            Span::styled(format!("{label:<11}"), theme.dim()),
            Span::styled("—", theme.dim()),
        ]);
    };
    let mut text = t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    if let Some(off) = local
        && off.local_minus_utc() != 0
    {
        text.push_str(&format!(
            " ({} local)",
            t.with_timezone(&off).format("%m-%d %H:%M %:z")
        ));
    }
    Line::from(vec![
        Span::styled(format!("{label:<11}"), theme.dim()),
        Span::raw(text),
        Span::styled(format!(" · {}", keys::relative(t, now)), theme.key_hint()),
    ])
}

fn summary_lines(
    theme: &Theme,
    a: &Assessment,
    slot: Slot,
    pane: &KeyPane,
    now: DateTime<Utc>,
) -> Vec<Line<'static>> {
    let label = |s: &str| Span::styled(format!("{s:<11}"), theme.dim());
    let mut lines = vec![
        Line::from(vec![
            label("Verdict"),
            Span::styled(
                a.verdict.label().to_uppercase(),
                verdict_style(theme, &a.verdict),
            ),
            Span::raw(verdict_detail(a, now)),
        ]),
        Line::from(vec![
            label("Signature"),
            signature_line(theme, &a.signature),
        ]),
    ];
    if slot != Slot::Other || a.user_id.is_some() {
        lines.push(Line::from(vec![
            label("User"),
            Span::raw(a.user_id.clone().unwrap_or_else(|| "—".into())),
        ]));
    }
    if let Some(cid) = &a.client_id {
        let (m, st) = match a.client_id_matches {
            Some(true) => (" ✓ matches the profile", theme.good()),
            Some(false) => (" ✗ NOT the profile's client id", theme.bad()),
            None => ("", Style::default()),
        };
        lines.push(Line::from(vec![
            label("Client id"),
            Span::raw(cid.clone()),
            Span::styled(m, st),
        ]));
    }
    if let Some(st) = &a.service_token {
        lines.push(Line::from(vec![
            label("Audience"),
            Span::raw(st.audience.clone().unwrap_or_default()),
        ]));
        if let Some(app_id) = &st.app_id {
            lines.push(Line::from(vec![label("App id"), Span::raw(app_id.clone())]));
        }
        if let Some(tid) = &st.tenant_id {
            lines.push(Line::from(vec![label("Tenant"), Span::raw(tid.clone())]));
        }
        let perms: Vec<String> = st.roles.iter().chain(&st.scopes).cloned().collect();
        if !perms.is_empty() {
            lines.push(Line::from(vec![
                label("Roles/scp"),
                Span::raw(perms.join(", ")),
            ]));
        }
    }
    let local = pane.local_offset;
    lines.push(time_line("Issued", a.issued_at, now, local, theme));
    lines.push(time_line("Not before", a.not_before, now, local, theme));
    lines.push(time_line("Expires", a.expires_at, now, local, theme));
    if slot != Slot::Other {
        lines.push(time_line("Renew due", a.renew_due, now, local, theme));
    }
    if let Some(used) = a.lifetime_used {
        let width = 24usize;
        let filled = ((used.clamp(0.0, 1.0)) * width as f64).round() as usize;
        let bar = format!("{}{}", "█".repeat(filled), "░".repeat(width - filled));
        lines.push(Line::from(vec![
            label("Lifetime"),
            Span::styled(bar, verdict_style(theme, &a.verdict)),
            Span::raw(format!(" {:.0}% used", used * 100.0)),
        ]));
    }
    if let Some(uri) = &a.refresh_uri {
        lines.push(Line::from(vec![label("Refresh"), Span::raw(uri.clone())]));
    }
    for n in &pane.notes {
        lines.push(Line::from(Span::styled(format!("ⓘ {n}"), theme.dim())));
    }
    for w in &a.warnings {
        lines.push(Line::from(Span::styled(format!("⚠ {w}"), theme.warn())));
    }
    lines
}

fn verdict_detail(a: &Assessment, now: DateTime<Utc>) -> String {
    match &a.verdict {
        Verdict::Valid => a
            .renew_due
            .map(|t| format!(" — renewal due {}", keys::relative(t, now)))
            .unwrap_or_default(),
        Verdict::RenewSoon | Verdict::RenewNow => a
            .expires_at
            .map(|t| {
                format!(
                    " — expires {}; press : and run renew",
                    keys::relative(t, now)
                )
            })
            .unwrap_or_default(),
        Verdict::Expired => " — cannot be renewed; the client app must mint a new key".into(),
        Verdict::Inconsistent(why) => format!(" — {why}"),
        // The Signature line below says why; here what it means.
        Verdict::SignatureInvalid(_) => format!(
            " — do not use it (by its times alone: {})",
            a.time_verdict.label()
        ),
        Verdict::Unsigned => format!(
            " — anyone could have written it; do not use it (by its times alone: {})",
            a.time_verdict.label()
        ),
        other => format!(" — {}", other.label()),
    }
}

fn draw_claims(f: &mut Frame, area: Rect, theme: &Theme, pane: &KeyPane, a: &Assessment) {
    let inner_h = area.height.saturating_sub(2) as usize;
    let nw = a
        .claims
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 24);
    let vw = area.width.saturating_sub(nw as u16 + 4);
    let mut rows: Vec<Line> = Vec::with_capacity(a.claims.len() + 1);
    rows.push(Line::from(vec![
        Span::styled(format!("{:<w$} ", "(the key)", w = nw), theme.title()),
        Span::raw("y copies the whole key"),
    ]));
    for c in &a.claims {
        rows.push(Line::from(vec![
            Span::styled(
                format!("{:<nw$} ", fit(&c.name, nw as u16)),
                theme.json_key(),
            ),
            Span::raw(fit(&c.value, vw).into_owned()),
        ]));
    }
    let cursor = pane.cursor.min(rows.len().saturating_sub(1));
    let start = cursor.saturating_sub(inner_h.saturating_sub(1));
    let lines: Vec<Line> = rows
        .into_iter()
        .enumerate()
        .skip(start)
        .take(inner_h)
        .map(|(i, l)| {
            if i == cursor {
                l.style(theme.selected())
            } else {
                l
            }
        })
        .collect();
    let uri = if cursor == 0 {
        String::new()
    } else {
        a.claims
            .get(cursor - 1)
            .map(|c| format!(" {} ", c.uri))
            .unwrap_or_default()
    };
    let block = Block::bordered()
        .title(" Claims · j/k move · y copy ")
        .title_bottom(Line::from(Span::styled(uri, theme.dim())));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_raw(f: &mut Frame, area: Rect, theme: &Theme, a: &Assessment) {
    let mut lines = vec![Line::from(Span::styled("header", theme.title()))];
    lines.extend(a.header_json().lines().map(|l| json_line(l, theme)));
    lines.push(Line::from(Span::styled("payload", theme.title())));
    lines.extend(a.payload_json().lines().map(|l| json_line(l, theme)));
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Raw JSON · J back · y copy ")),
        area,
    );
}

/// Colour one line of pretty-printed JSON: keys, strings, numbers.
pub fn json_line(line: &str, theme: &Theme) -> Line<'static> {
    let indent_len = line.len() - line.trim_start().len();
    let (indent, rest) = line.split_at(indent_len);
    let mut spans = vec![Span::raw(indent.to_string())];
    if let Some(colon) = rest.find("\": ").filter(|_| rest.starts_with('"')) {
        let (k, v) = rest.split_at(colon + 1);
        spans.push(Span::styled(k.to_string(), theme.json_key()));
        spans.push(Span::raw(": "));
        spans.push(value_span(v[2..].to_string(), theme));
    } else {
        spans.push(value_span(rest.to_string(), theme));
    }
    Line::from(spans)
}

fn value_span(v: String, theme: &Theme) -> Span<'static> {
    let t = v.trim_end_matches(',');
    if t.starts_with('"') {
        Span::styled(v, theme.json_string())
    } else if t.parse::<f64>().is_ok() || t == "true" || t == "false" || t == "null" {
        Span::styled(v, theme.json_number())
    } else {
        Span::raw(v)
    }
}
