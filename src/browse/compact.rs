//! Lossless shrinking of an entitlement's raw JSON for keeping 100k of them
//! in memory: the field names and values every item repeats are replaced
//! by single control bytes. Valid JSON never carries a raw control byte
//! (they must be escaped inside strings, and are not whitespace), so the
//! codes cannot collide with content. Text that does carry one is stored
//! verbatim behind a marker, so any input round-trips.

/// Marks a verbatim (uncompressed) entry.
const VERBATIM: u8 = 0x01;

/// Code byte → fragment. Codes skip `\t`, `\n` and `\r` (JSON whitespace).
const DICT: &[(u8, &str)] = &[
    (0x02, "\"9999-12-31T23:59:59.9999999+00:00\""),
    (
        0x03,
        "\"trialData\":{\"isInTrialPeriod\":false,\"isTrial\":false}",
    ),
    (0x04, "\"satisfiedByProductIds\":"),
    (0x05, "\"localTicketReference\":"),
    (0x06, "\"acquisitionType\":\"Single\""),
    (0x07, "\"purchasedCountry\":"),
    (0x08, "\"transactionId\":"),
    (0x0b, "\"productFamily\":"),
    (0x0c, "\"sharingSource\":"),
    (0x0e, "\"acquiredDate\":"),
    (0x0f, "\"modifiedDate\":"),
    (0x10, "\"productKind\":"),
    (0x11, "\"status\":\"Active\""),
    (0x12, "\"startDate\":"),
    (0x13, "\"productId\":"),
    (0x14, "\"recurrenceId\":"),
    (0x15, "\"endDate\":"),
    (0x16, "\"quantity\":"),
    (0x17, "\"status\":"),
    (0x18, "\"skuId\":"),
    (0x19, "\"tags\":"),
    (0x1a, "+00:00\""),
    (0x1b, "\"Durable\""),
    (0x1c, "\"Consumable\""),
    (0x1d, "\"id\":"),
    (0x1e, "\"None\""),
    (0x1f, "\"\""),
];

/// Append the compact form of `json` to `out`.
pub fn pack_into(json: &str, out: &mut Vec<u8>) {
    let bytes = json.as_bytes();
    if bytes
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        out.push(VERBATIM);
        out.extend_from_slice(bytes);
        return;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Every fragment starts with `"` or `+`: skip the search elsewhere.
        if (b == b'"' || b == b'+')
            && let Some((code, frag)) = DICT
                .iter()
                .find(|(_, f)| bytes[i..].starts_with(f.as_bytes()))
        {
            out.push(*code);
            i += frag.len();
            continue;
        }
        out.push(b);
        i += 1;
    }
}

pub fn pack(json: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(json.len() / 2);
    pack_into(json, &mut v);
    v
}

/// The original text of a packed entry.
pub fn unpack(packed: &[u8]) -> String {
    if let Some((&VERBATIM, rest)) = packed.split_first() {
        return String::from_utf8_lossy(rest).into_owned();
    }
    let mut out = Vec::with_capacity(packed.len() * 2);
    for &b in packed {
        match DICT.iter().find(|(c, _)| *c == b) {
            Some((_, frag)) => out.extend_from_slice(frag.as_bytes()),
            None => out.push(b),
        }
    }
    // Codes only replace whole ASCII fragments, so this is the input again.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_typical_item_shrinks_and_round_trips() {
        let j = r#"{"acquiredDate":"2025-01-02T03:04:05.1234567+00:00","acquisitionType":"Single","endDate":"9999-12-31T23:59:59.9999999+00:00","id":"2d3b4f6a8c0e1f2a3b4c5d6e7f8a9b0c","modifiedDate":"2025-01-02T03:04:05.1234567+00:00","productId":"9WHALE0042","productKind":"Durable","quantity":1,"satisfiedByProductIds":[],"skuId":"0001","startDate":"2025-01-02T03:04:05.1234567+00:00","status":"Active","tags":[],"transactionId":"6b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","trialData":{"isInTrialPeriod":false,"isTrial":false}}"#;
        let p = pack(j);
        assert!(p.len() * 2 < j.len(), "{} -> {}", j.len(), p.len());
        assert_eq!(unpack(&p), j);
    }

    #[test]
    fn control_bytes_are_kept_verbatim() {
        let s = "{\"a\":\"\u{2}\"}";
        assert_eq!(unpack(&pack(s)), s);
    }

    proptest! {
        #[test]
        fn any_text_round_trips(s in any::<String>()) {
            prop_assert_eq!(unpack(&pack(&s)), s);
        }

        #[test]
        fn json_like_text_round_trips(parts in prop::collection::vec(prop::sample::select(vec![
            "\"status\":", "\"Active\"", "+00:00\"", "\"\"", "\"id\":", "{", "}", ",", "x", "é", "\"9999-12-31T23:59:59.9999999+00:00\"",
        ]), 0..40)) {
            let s: String = parts.concat();
            prop_assert_eq!(unpack(&pack(&s)), s);
        }
    }
}
