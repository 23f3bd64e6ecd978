//! Turn what people really paste into one token: a key in quotes, after
//! `Bearer `, broken over lines by a mail client, inside a JSON body or a
//! log line. Every change is reported in `notes` so nobody is surprised.

use super::assess::KeyKind;
use serde_json::Value;

/// Real keys are 1–3 KB; a JSON body or log line around one stays far below
/// this. The cap keeps a stray paste of a whole file instant to reject.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// Field names that hold a User Store ID in the bodies agents paste (renew
/// requests, the official sample's requests, client app logs).
const KEY_FIELDS: &[&str] = &[
    "key",
    "Key",
    "userCollectionsId",
    "UserCollectionsId",
    "userPurchaseId",
    "UserPurchaseId",
    "identityValue",
    "b2bKey",
];

/// One token ready for [`super::decode`], plus what was done to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    pub token: String,
    /// One line per clean-up step, e.g. "removed the Bearer prefix".
    pub notes: Vec<String>,
}

/// Why the input holds no key. Messages are one line and never quote the
/// input, which may hold secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("nothing to inspect: the input is empty")]
    Empty,
    #[error("nothing to inspect: the input is only whitespace")]
    Blank,
    #[error("input too large: {len} bytes (a key is a few KB; the limit is {max} bytes)")]
    TooLarge { len: usize, max: usize },
    #[error("not text: invalid UTF-8 at byte {at}")]
    InvalidUtf8 { at: usize },
    #[error("not text: binary data (control byte 0x{byte:02x} at byte {at})")]
    Binary { byte: u8, at: usize },
    #[error("not a key: {0}")]
    NotAKey(String),
}

/// [`clean_input`] for raw bytes (standard input): checks size and UTF-8
/// before anything else looks at them.
pub fn clean_bytes(raw: &[u8]) -> Result<Cleaned, InputError> {
    check_size(raw.len())?;
    match std::str::from_utf8(raw) {
        Ok(s) => clean_input(s),
        Err(e) => Err(InputError::InvalidUtf8 {
            at: e.valid_up_to(),
        }),
    }
}

pub fn clean_input(raw: &str) -> Result<Cleaned, InputError> {
    check_size(raw.len())?;
    if raw.is_empty() {
        return Err(InputError::Empty);
    }
    // A bare key, as pasted or piped by the thousand, needs none of the
    // passes below (they would all leave it as it is).
    if looks_like_jwt_start(raw) && is_word(raw) {
        return Ok(Cleaned {
            token: trim_extra_dots(raw).to_string(),
            notes: Vec::new(),
        });
    }
    let mut notes = Vec::new();
    // A line copied from a coloured terminal log carries its escape codes
    // (`ESC[32m`…`ESC[0m`) round the key; they are not binary data.
    let uncoloured;
    let raw = if raw.contains('\x1b') {
        uncoloured = strip_ansi(raw);
        notes.push("removed terminal colour codes (ANSI escapes)".to_string());
        uncoloured.as_str()
    } else {
        raw
    };
    if let Some((at, byte)) = find_control(raw) {
        return Err(InputError::Binary { byte, at });
    }
    let s = strip_wrappers(raw, &mut notes);
    if s.is_empty() {
        return Err(if notes.is_empty() {
            InputError::Blank
        } else {
            InputError::NotAKey("only quotes or a Bearer prefix, no key after it".into())
        });
    }

    if is_word(s) && looks_like_jwt_start(s) {
        return Ok(Cleaned {
            token: trim_extra_dots(s).to_string(),
            notes,
        });
    }

    let joined: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if joined.len() != s.len() && is_word(&joined) && looks_like_jwt_start(&joined) {
        let breaks = s.lines().count().saturating_sub(1);
        notes.push(if breaks > 0 {
            format!("joined the key, which was broken over {} lines", breaks + 1)
        } else {
            "removed spaces inside the key".to_string()
        });
        return Ok(Cleaned {
            token: trim_extra_dots(&joined).to_string(),
            notes,
        });
    }

    if (s.starts_with('{') || s.starts_with('['))
        && let Ok(v) = serde_json::from_str::<Value>(s)
    {
        let mut found = Vec::new();
        collect_json_jwts(&v, None, &mut found);
        if let Some(pick) = pick_json_candidate(&found) {
            let (field, token) = &found[pick];
            let mut note = match field {
                Some(f) => format!("picked the key out of a JSON body (field {f:?})"),
                None => "picked the key out of a JSON body".to_string(),
            };
            if found.len() > 1 {
                note.push_str(&format!(
                    "; it holds {} JWT-shaped strings, the others were ignored",
                    found.len()
                ));
            }
            notes.push(note);
            let tokens: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
            notes.extend(service_token_note(&tokens, pick));
            return Ok(Cleaned {
                token: token.clone(),
                notes,
            });
        }
    }

    let found = scan_for_jwts(s);
    if !found.is_empty() {
        // A request dump holds the publisher's service token (the
        // Authorization header) before the customer's key (the body).
        let pick = user_store_id_among(&found).unwrap_or(0);
        let mut note = "picked the key out of the surrounding text".to_string();
        if found.len() > 1 {
            note.push_str(&format!(
                "; it holds {} JWT-shaped strings, {} was used",
                found.len(),
                if pick == 0 {
                    "the first"
                } else {
                    "the User Store ID"
                }
            ));
        }
        notes.push(note);
        notes.extend(service_token_note(&found, pick));
        return Ok(Cleaned {
            token: found[pick].to_string(),
            notes,
        });
    }

    if is_word(s) {
        // Token-shaped but not a JWT we recognise: let decode say exactly
        // what is wrong with it (parts, base64, JSON).
        return Ok(Cleaned {
            token: s.to_string(),
            notes,
        });
    }
    Err(InputError::NotAKey(match s.chars().find(|c| !is_token_char(*c) && !c.is_whitespace()) {
        Some(c) if !s.contains(char::is_whitespace) => format!(
            "contains {c:?}, which cannot appear in a key, and no key was found inside it"
        ),
        _ => "no key found in the text (a key is three base64url parts separated by dots, starting with \"ey\")".to_string(),
    }))
}

fn check_size(len: usize) -> Result<(), InputError> {
    if len > MAX_INPUT_BYTES {
        Err(InputError::TooLarge {
            len,
            max: MAX_INPUT_BYTES,
        })
    } else {
        Ok(())
    }
}

/// Peel whitespace, matching quotes and an `Authorization: Bearer` prefix,
/// in any nesting, noting each kind once.
fn strip_wrappers<'a>(raw: &'a str, notes: &mut Vec<String>) -> &'a str {
    let mut s = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let (mut quotes, mut bearer, mut header) = (false, false, false);
    loop {
        let before = s.len();
        if let Some(inner) = strip_quotes(s) {
            s = inner.trim();
            quotes = true;
        }
        if let Some(rest) = strip_prefix_ci(s, "authorization:") {
            s = rest.trim_start();
            header = true;
        }
        if let Some(rest) = strip_prefix_ci(s, "bearer")
            && (rest.is_empty() || rest.starts_with(char::is_whitespace))
        {
            s = rest.trim_start();
            bearer = true;
        }
        if s.len() == before {
            break;
        }
    }
    if quotes {
        notes.push("removed the surrounding quotes".to_string());
    }
    if header {
        notes.push("removed the Authorization header name".to_string());
    }
    if bearer {
        notes.push("removed the Bearer prefix".to_string());
    }
    s
}

fn strip_quotes(s: &str) -> Option<&str> {
    const PAIRS: &[(char, char)] = &[
        ('"', '"'),
        ('\'', '\''),
        ('`', '`'),
        ('\u{201c}', '\u{201d}'),
        ('\u{2018}', '\u{2019}'),
    ];
    PAIRS.iter().find_map(|(open, close)| {
        s.strip_prefix(*open)
            .and_then(|rest| rest.strip_suffix(*close))
    })
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn is_token_char(c: char) -> bool {
    c.is_ascii() && (is_b64url(c as u8) || c == '.' || c == '=')
}

/// `is_token_char` for every byte, looked up rather than computed: keys
/// are checked by the hundred thousand in `inspect -`.
const TOKEN_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.' || c == b'=';
        b += 1;
    }
    t
};

fn is_word(s: &str) -> bool {
    // Token chars are ASCII, so bytes will do (and are several times faster).
    !s.is_empty() && s.bytes().all(|b| TOKEN_BYTES[usize::from(b)])
}

/// The first control character (Unicode `Cc`: U+0000–U+001F, U+007F–U+009F)
/// other than tab and line breaks, as its byte offset and code point.
/// Byte-wise: C0 and DEL are single bytes, C1 are `0xC2 0x80`–`0xC2 0x9F`.
fn find_control(s: &str) -> Option<(usize, u8)> {
    let b = s.as_bytes();
    b.iter().enumerate().find_map(|(i, &c)| match c {
        b'\t' | b'\n' | b'\r' => None,
        0x00..=0x1f | 0x7f => Some((i, c)),
        0xc2 => match b.get(i + 1) {
            Some(&n @ 0x80..=0x9f) => Some((i, n)),
            _ => None,
        },
        _ => None,
    })
}

/// A JWT header is a JSON object, so its base64 starts with `ey` (`{"`,
/// `{ "`) or `ew` (`{` and a line break).
fn looks_like_jwt_start(s: &str) -> bool {
    s.starts_with("ey") || s.starts_with("ew")
}

/// Whether a string is plausibly a whole JWT: token chars, a JSON header,
/// at least three dot-separated parts.
fn is_jwt_shaped(s: &str) -> bool {
    is_word(s) && s.starts_with("eyJ") && s.split('.').count() >= 3
}

fn collect_json_jwts(v: &Value, field: Option<&str>, out: &mut Vec<(Option<String>, String)>) {
    match v {
        Value::String(s) => {
            let t = s.trim();
            let t = strip_prefix_ci(t, "bearer ").map_or(t, str::trim_start);
            if is_jwt_shaped(t) {
                out.push((field.map(str::to_string), t.to_string()));
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_json_jwts(i, field, out)),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, i)| collect_json_jwts(i, Some(k), out)),
        _ => {}
    }
}

/// Prefer a token whose claims say it is a User Store ID, then a field that
/// conventionally holds one over, say, the `serviceTicket` of the same
/// renew request.
fn pick_json_candidate(found: &[(Option<String>, String)]) -> Option<usize> {
    if found.is_empty() {
        return None;
    }
    let tokens: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
    Some(user_store_id_among(&tokens).unwrap_or_else(|| {
        found
            .iter()
            .position(|(f, _)| f.as_deref().is_some_and(|f| KEY_FIELDS.contains(&f)))
            .unwrap_or(0)
    }))
}

/// What a JWT-shaped candidate's claims say it is (`None`: not decodable).
fn kind_of_token(token: &str) -> Option<KeyKind> {
    super::decode::decode(token)
        .ok()
        .map(|d| super::assess::kind_of(&d.payload))
}

/// The first candidate whose claims make it a User Store ID.
fn user_store_id_among(tokens: &[&str]) -> Option<usize> {
    tokens.iter().position(|t| {
        matches!(
            kind_of_token(t),
            Some(KeyKind::UserCollectionsId | KeyKind::UserPurchaseId)
        )
    })
}

/// Say so when an Entra service token was found beside the key used: the
/// agent learns the dump held the publisher's credential too (the token
/// itself is never quoted).
fn service_token_note(tokens: &[&str], used: usize) -> Option<String> {
    let n = tokens
        .iter()
        .enumerate()
        .filter(|(i, t)| *i != used && kind_of_token(t) == Some(KeyKind::EntraServiceToken))
        .count();
    (n > 0).then(|| {
        format!(
            "a service token (Entra, the publisher's own) was also found{} and ignored",
            if n > 1 {
                format!(" ({n} of them)")
            } else {
                String::new()
            }
        )
    })
}

/// `raw` without ANSI escape sequences: CSI (`ESC [ … final byte`), OSC
/// (`ESC ] … BEL` or `ESC \\`) and two-byte escapes; a lone ESC goes too.
fn strip_ansi(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('[') => {
                chars.next();
                // Parameters and intermediates, then one final byte @–~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                chars.next();
                while let Some(c) = chars.next() {
                    if c == '\x07' {
                        break;
                    }
                    if c == '\x1b' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            Some(_) => {
                chars.next();
            }
            None => {}
        }
    }
    out
}

/// A sentence may end right after the key: drop trailing dots beyond the
/// third part (an unsigned JWT legitimately ends in one).
fn trim_extra_dots(mut s: &str) -> &str {
    while s.ends_with('.') && s.split('.').count() > 3 {
        s = &s[..s.len() - 1];
    }
    s
}

/// JWT-shaped substrings of free text, in order: a run of token chars that
/// starts with `eyJ` at a word boundary and has at least three parts.
fn scan_for_jwts(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 <= bytes.len() {
        let at_boundary = i == 0 || !is_b64url(bytes[i - 1]);
        if at_boundary && &bytes[i..i + 3] == b"eyJ" {
            let mut j = i;
            while j < bytes.len() && (is_b64url(bytes[j]) || bytes[j] == b'.' || bytes[j] == b'=') {
                j += 1;
            }
            // All bytes in i..j are ASCII, so these are char boundaries.
            let cand = trim_extra_dots(&s[i..j]);
            if cand.split('.').count() >= 3 {
                out.push(cand);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_table_is_is_token_char() {
        for b in 0..=255u8 {
            assert_eq!(
                TOKEN_BYTES[usize::from(b)],
                is_token_char(char::from(b)),
                "{b}"
            );
        }
    }

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2ln";

    fn ok(raw: &str) -> Cleaned {
        clean_input(raw).unwrap_or_else(|e| panic!("{raw:?} rejected: {e}"))
    }

    #[test]
    fn plain_key_passes_untouched() {
        let c = ok(JWT);
        assert_eq!(c.token, JWT);
        assert!(c.notes.is_empty());
    }

    #[test]
    fn whitespace_and_quotes_are_removed() {
        let c = ok(&format!("  \n\"{JWT}\"\r\n"));
        assert_eq!(c.token, JWT);
        assert_eq!(c.notes, vec!["removed the surrounding quotes"]);
        assert_eq!(ok(&format!("'{JWT}'")).token, JWT);
        assert_eq!(ok(&format!("\u{201c}{JWT}\u{201d}")).token, JWT);
    }

    #[test]
    fn bearer_prefix_is_removed() {
        let c = ok(&format!("Bearer {JWT}"));
        assert_eq!(c.token, JWT);
        assert_eq!(c.notes, vec!["removed the Bearer prefix"]);
        let c = ok(&format!("Authorization: bearer   {JWT}"));
        assert_eq!(c.token, JWT);
        assert!(c.notes.iter().any(|n| n.contains("Bearer")));
        // Inside quotes, too.
        assert_eq!(ok(&format!("\"Bearer {JWT}\"")).token, JWT);
    }

    #[test]
    fn line_breaks_inside_are_joined() {
        let broken = format!("{}\n{}\r\n{}", &JWT[..10], &JWT[10..25], &JWT[25..]);
        let c = ok(&broken);
        assert_eq!(c.token, JWT);
        assert_eq!(
            c.notes,
            vec!["joined the key, which was broken over 3 lines"]
        );
    }

    #[test]
    fn key_is_picked_from_a_json_body() {
        let body = format!(r#"{{"serviceTicket": "{JWT}x", "key": "{JWT}"}}"#);
        let c = ok(&body);
        assert_eq!(c.token, JWT);
        assert_eq!(
            c.notes[0],
            "picked the key out of a JSON body (field \"key\"); it holds 2 JWT-shaped strings, the others were ignored"
        );
        let nested =
            format!(r#"{{"beneficiaries":[{{"identityType":"b2b","identityValue":"{JWT}"}}]}}"#);
        let c = ok(&nested);
        assert_eq!(c.token, JWT);
        assert_eq!(
            c.notes,
            vec!["picked the key out of a JSON body (field \"identityValue\")"]
        );
    }

    #[test]
    fn key_is_picked_from_a_log_line() {
        let line = format!("2026-11-02T10:00:01Z WARN renew failed key={JWT}, status=401.");
        let c = ok(&line);
        assert_eq!(c.token, JWT);
        assert_eq!(c.notes, vec!["picked the key out of the surrounding text"]);
        // A key ending a sentence keeps its three parts.
        let c = ok(&format!("the key is {JWT}."));
        assert_eq!(c.token, JWT);
        assert_eq!(ok(&format!("{JWT}.")).token, JWT);
        assert_eq!(ok(&format!("{JWT}..")).token, JWT);
        // Glued to other word characters is not a boundary.
        assert_eq!(ok(&format!("xx{JWT} {JWT}")).token, JWT);
    }

    #[test]
    fn empty_and_blank_are_rejected() {
        assert_eq!(clean_input(""), Err(InputError::Empty));
        assert_eq!(clean_input(" \t\r\n "), Err(InputError::Blank));
        assert!(matches!(clean_input("\"\""), Err(InputError::NotAKey(_))));
        assert!(matches!(
            clean_input("Bearer  "),
            Err(InputError::NotAKey(_))
        ));
    }

    #[test]
    fn one_mebibyte_is_rejected_by_size() {
        let big = "a".repeat(1 << 20);
        assert_eq!(
            clean_input(&big),
            Err(InputError::TooLarge {
                len: 1 << 20,
                max: MAX_INPUT_BYTES
            })
        );
        assert!(matches!(
            clean_bytes(big.as_bytes()),
            Err(InputError::TooLarge { .. })
        ));
    }

    #[test]
    fn binary_and_invalid_utf8_are_rejected() {
        assert_eq!(
            clean_bytes(&[b'e', b'y', 0xff, 0xfe]),
            Err(InputError::InvalidUtf8 { at: 2 })
        );
        assert_eq!(
            clean_bytes(b"ey\x00\x01J"),
            Err(InputError::Binary { byte: 0, at: 2 })
        );
        assert_eq!(
            clean_input("abc\u{7f}"),
            Err(InputError::Binary { byte: 0x7f, at: 3 })
        );
        let msg = clean_bytes(&[0x89, b'P', b'N', b'G'])
            .unwrap_err()
            .to_string();
        assert_eq!(msg, "not text: invalid UTF-8 at byte 0");
    }

    /// The byte scan agrees with the Unicode definition, C1 controls included.
    #[test]
    fn control_scan_matches_char_is_control() {
        let by_chars = |s: &str| {
            s.char_indices()
                .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                .map(|(i, c)| (i, c as u32 as u8))
        };
        for s in [
            "eyJ.abc",
            "tab\tnl\ncr\r ok",
            "é ü \u{a0} \u{100} \u{2028} 😀",
            "before\u{85}after",
            "x\u{9f}",
            "\u{80}",
            "\u{1b}[31m",
            "ÂÂ\u{7f}",
        ] {
            assert_eq!(find_control(s), by_chars(s), "{s:?}");
        }
        for cp in 0..0x800u32 {
            let s = format!("ab{}cd", char::from_u32(cp).unwrap());
            assert_eq!(find_control(&s), by_chars(&s), "U+{cp:04X}");
        }
    }

    #[test]
    fn text_without_a_key_says_so() {
        let e = clean_input("hello, how are you?").unwrap_err();
        assert!(e.to_string().starts_with("not a key: no key found"), "{e}");
        let e = clean_input("abc$def").unwrap_err();
        assert_eq!(
            e.to_string(),
            "not a key: contains '$', which cannot appear in a key, and no key was found inside it"
        );
        // A JSON body without a key is not a key either.
        assert!(matches!(
            clean_input(r#"{"key": 5}"#),
            Err(InputError::NotAKey(_))
        ));
    }

    #[test]
    fn token_shaped_words_go_on_to_decode() {
        // Decode explains parts and base64 better than a generic "not a key".
        assert_eq!(ok("abc.def").token, "abc.def");
        assert_eq!(ok("a.b.c.d").token, "a.b.c.d");
    }

    #[test]
    fn errors_never_quote_the_input() {
        let secret = "s3cr3t-value!";
        for raw in [secret, "Bearer s3cr3t-value!"] {
            let msg = clean_input(raw).unwrap_err().to_string();
            assert!(!msg.contains("s3cr3t"), "{msg}");
        }
    }

    fn user_store_id() -> String {
        crate::keys::testkit::raw_token(
            r#"{"alg":"RS256"}"#,
            &crate::keys::testkit::store_claims(1_790_000_000).to_string(),
        )
    }

    /// An Entra client-credential token for the Store services: no key
    /// claims, the onestore audience.
    fn service_token() -> String {
        crate::keys::testkit::raw_token(
            r#"{"typ":"JWT","alg":"RS256","x5t":"abc"}"#,
            r#"{"aud":"https://onestore.microsoft.com","iss":"https://sts.windows.net/5f8c1e2a/","appid":"8e6a9b2c","iat":1790000000,"exp":1790003600}"#,
        )
    }

    #[test]
    fn ansi_colour_codes_round_a_key_in_a_log_line_are_removed() {
        let key = user_store_id();
        let line = format!(
            "\x1b[2m2026-11-29T10:00:00Z\x1b[0m \x1b[32mINFO\x1b[0m renew key=\x1b[1;33m{key}\x1b[0m done"
        );
        let c = ok(&line);
        assert_eq!(c.token, key);
        assert!(
            c.notes.iter().any(|n| n.contains("terminal colour codes")),
            "{:?}",
            c.notes
        );
        // The key alone in colour, and an OSC title sequence before it.
        let c = ok(&format!("\x1b]0;title\x07\x1b[31m{key}\x1b[m"));
        assert_eq!(c.token, key);
        // Other control bytes are still refused as binary.
        assert!(matches!(
            clean_input(&format!("\x1b[1m{key}\x01")),
            Err(InputError::Binary { byte: 1, .. })
        ));
    }

    #[test]
    fn a_request_dump_yields_the_user_store_id_not_the_service_token() {
        let (key, svc) = (user_store_id(), service_token());
        let dump = format!(
            "POST /v9.0/collections/publisherQuery HTTP/1.1\r\nAuthorization: Bearer {svc}\r\nContent-Type: application/json\r\n\r\n{{\"beneficiaries\":[{{\"identityType\":\"b2b\",\"identityValue\":\"{key}\",\"localTicketReference\":\"\"}}],\"productSkuIds\":[{{\"productId\":\"9NBLGGH4R315\"}}]}}"
        );
        let c = ok(&dump);
        assert_eq!(c.token, key);
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("service token") && n.contains("also found")),
            "{:?}",
            c.notes
        );
        assert!(c.notes.iter().all(|n| !n.contains(&svc)), "never quoted");
        // A renew body: serviceTicket first, key second.
        let body = format!(r#"{{"serviceTicket":"{svc}","key":"{key}"}}"#);
        let c = ok(&body);
        assert_eq!(c.token, key);
        assert!(c.notes.iter().any(|n| n.contains("service token")));
        // A key alone says nothing about service tokens.
        let c = ok(&format!("key: {key}"));
        assert!(c.notes.iter().all(|n| !n.contains("service token")));
    }
}
