//! Split a JWT into header, claims and signature. No verification here:
//! that is [`super::assess`]'s job, and it says what it could check.

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;

/// base64url as JWTs use it, but forgiving of the `=` padding and loose
/// trailing bits that hand-made or re-encoded tokens carry.
const B64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Header,
    Payload,
    Signature,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        })
    }
}

/// Why a token is not a readable JWT. One line; never quotes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a JWT: it has {found} part(s) separated by dots, a key has 3")]
    Parts { found: usize },
    #[error(
        "an encrypted JWT (JWE, 5 parts) cannot be read without its key; a User Store ID has 3 parts"
    )]
    Encrypted,
    #[error("not a JWT: the {part} part is empty")]
    EmptyPart { part: Part },
    #[error("not a JWT: the {part} part is not valid base64url ({detail})")]
    Base64 { part: Part, detail: String },
    #[error("not a JWT: the {part} part is not JSON ({detail})")]
    NotJson { part: Part, detail: String },
    #[error("not a JWT: the {part} part is JSON {found}, not an object")]
    NotObject { part: Part, found: &'static str },
}

/// A JWT taken apart, unverified.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub token: String,
    /// The header object.
    pub header: Value,
    /// Claims by name; for a duplicated name the last one wins, as in
    /// serde_json and most JWT libraries.
    pub payload: Map<String, Value>,
    /// Every claim in payload order, duplicates included.
    pub claims_in_order: Vec<(String, Value)>,
    /// Claim names that occur more than once (each listed once).
    pub duplicate_claims: Vec<String>,
    /// Header fields that occur more than once.
    pub duplicate_header_fields: Vec<String>,
    pub signature: Vec<u8>,
    /// Length of `header.payload`, the bytes the signature covers.
    pub signing_input_len: usize,
}

impl Decoded {
    /// The signed bytes: `base64(header).base64(payload)`.
    pub fn signing_input(&self) -> &str {
        self.token.get(..self.signing_input_len).unwrap_or("")
    }

    /// The signature as it appears in the token (base64url).
    pub fn signature_b64(&self) -> &str {
        self.token.get(self.signing_input_len + 1..).unwrap_or("")
    }

    pub fn header_str(&self, field: &str) -> Option<&str> {
        self.header.get(field).and_then(Value::as_str)
    }
}

pub fn decode(token: &str) -> Result<Decoded, DecodeError> {
    let parts: Vec<&str> = token.split('.').collect();
    let (h, p, s) = match parts.as_slice() {
        [h, p, s] => (*h, *p, *s),
        [_, _, _, _, _] => return Err(DecodeError::Encrypted),
        other => return Err(DecodeError::Parts { found: other.len() }),
    };
    let (header_fields, duplicate_header_fields) = json_object(Part::Header, h)?;
    let (claims_in_order, duplicate_claims) = json_object(Part::Payload, p)?;
    let signature = B64.decode(s).map_err(|e| DecodeError::Base64 {
        part: Part::Signature,
        detail: e.to_string(),
    })?;
    Ok(Decoded {
        token: token.to_string(),
        header: Value::Object(header_fields.into_iter().collect()),
        payload: claims_in_order.iter().cloned().collect(),
        claims_in_order,
        duplicate_claims,
        duplicate_header_fields,
        signature,
        signing_input_len: h.len() + 1 + p.len(),
    })
}

type Fields = Vec<(String, Value)>;

fn json_object(part: Part, b64: &str) -> Result<(Fields, Vec<String>), DecodeError> {
    if b64.is_empty() {
        return Err(DecodeError::EmptyPart { part });
    }
    let bytes = B64.decode(b64).map_err(|e| DecodeError::Base64 {
        part,
        detail: e.to_string(),
    })?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        // Not an object: find out whether it is other JSON or no JSON at all.
        return Err(match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => DecodeError::NotObject {
                part,
                found: json_type(&v),
            },
            Err(e) => DecodeError::NotJson {
                part,
                detail: not_json_detail(&bytes, &e),
            },
        });
    }
    let Ordered(fields) = serde_json::from_slice(&bytes).map_err(|e| DecodeError::NotJson {
        part,
        detail: not_json_detail(&bytes, &e),
    })?;
    let dups = duplicates(&fields);
    Ok((fields, dups))
}

fn not_json_detail(bytes: &[u8], e: &serde_json::Error) -> String {
    if std::str::from_utf8(bytes).is_err() {
        format!("{} bytes of binary data", bytes.len())
    } else {
        e.to_string()
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn duplicates(fields: &Fields) -> Vec<String> {
    let mut seen = HashSet::with_capacity(fields.len());
    let mut dups: Vec<String> = Vec::new();
    for (k, _) in fields {
        if !seen.insert(k.as_str()) && !dups.iter().any(|d| d == k) {
            dups.push(k.clone());
        }
    }
    dups
}

/// A JSON object read as a list, so that order and duplicate names survive
/// (serde_json's `Map` keeps only the last of duplicates, silently).
struct Ordered(Fields);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(12));
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn jwt(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(payload), b64("sig"))
    }

    #[test]
    fn decodes_header_claims_and_signature() {
        let t = jwt(
            r#"{"alg":"RS256","typ":"JWT"}"#,
            r#"{"b":1,"a":"x","exp":5}"#,
        );
        let d = decode(&t).unwrap();
        assert_eq!(d.header_str("alg"), Some("RS256"));
        let names: Vec<_> = d.claims_in_order.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["b", "a", "exp"], "payload order is kept");
        assert_eq!(d.payload["a"], "x");
        assert_eq!(d.signature, b"sig");
        assert_eq!(d.signing_input(), &t[..t.rfind('.').unwrap()]);
        assert_eq!(d.signature_b64(), b64("sig"));
        assert!(d.duplicate_claims.is_empty());
    }

    #[test]
    fn padding_is_tolerated() {
        let h = base64::engine::general_purpose::URL_SAFE.encode(r#"{"alg":"none"}"#);
        assert!(h.ends_with('='), "the test needs a padded header");
        let t = format!("{h}.{}.", b64(r#"{"exp":1}"#));
        let d = decode(&t).unwrap();
        assert_eq!(d.header_str("alg"), Some("none"));
        assert!(d.signature.is_empty());
    }

    #[test]
    fn wrong_number_of_parts() {
        let two = format!("{}.{}", b64("{}"), b64("{}"));
        assert_eq!(decode(&two), Err(DecodeError::Parts { found: 2 }));
        let four = format!("{two}.{}.{}", b64("s"), b64("x"));
        assert_eq!(decode(&four), Err(DecodeError::Parts { found: 4 }));
        assert_eq!(decode("hello"), Err(DecodeError::Parts { found: 1 }));
        assert_eq!(decode("a.b.c.d.e"), Err(DecodeError::Encrypted));
        assert_eq!(
            DecodeError::Parts { found: 2 }.to_string(),
            "not a JWT: it has 2 part(s) separated by dots, a key has 3"
        );
    }

    #[test]
    fn invalid_base64_names_the_part() {
        let t = format!("{}.ab$d.{}", b64("{}"), b64("s"));
        let e = decode(&t).unwrap_err();
        assert!(
            matches!(
                e,
                DecodeError::Base64 {
                    part: Part::Payload,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with("not a JWT: the payload part is not valid base64url")
        );
        let t = format!("{}.{}.a+b", b64("{}"), b64("{}"));
        assert!(matches!(
            decode(&t),
            Err(DecodeError::Base64 {
                part: Part::Signature,
                ..
            })
        ));
        // A single leftover character can never be base64.
        let t = format!("x.{}.", b64("{}"));
        assert!(matches!(
            decode(&t),
            Err(DecodeError::Base64 {
                part: Part::Header,
                ..
            })
        ));
    }

    #[test]
    fn base64_of_non_json() {
        let t = format!("{}.{}.", b64("{}"), b64("hello world"));
        let e = decode(&t).unwrap_err();
        assert!(
            matches!(
                e,
                DecodeError::NotJson {
                    part: Part::Payload,
                    ..
                }
            ),
            "{e:?}"
        );
        let t = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode([0xff, 0x00, 0x7b]),
            b64("{}")
        );
        assert_eq!(
            decode(&t).unwrap_err().to_string(),
            "not a JWT: the header part is not JSON (3 bytes of binary data)"
        );
        // Starts like an object but is cut short.
        let t = format!("{}.{}.", b64("{}"), b64(r#"{"exp": 1"#));
        assert!(matches!(decode(&t), Err(DecodeError::NotJson { .. })));
    }

    #[test]
    fn json_array_payload_is_not_an_object() {
        let t = format!("{}.{}.", b64("{}"), b64(r#"[{"exp":1}]"#));
        let e = decode(&t).unwrap_err();
        assert_eq!(
            e,
            DecodeError::NotObject {
                part: Part::Payload,
                found: "an array"
            }
        );
        assert_eq!(
            e.to_string(),
            "not a JWT: the payload part is JSON an array, not an object"
        );
        let t = format!("{}.{}.", b64("\"x\""), b64("{}"));
        assert_eq!(
            decode(&t).unwrap_err(),
            DecodeError::NotObject {
                part: Part::Header,
                found: "a string"
            }
        );
    }

    #[test]
    fn empty_parts() {
        assert_eq!(
            decode(".."),
            Err(DecodeError::EmptyPart { part: Part::Header })
        );
        let t = format!("{}..", b64("{}"));
        assert_eq!(
            decode(&t),
            Err(DecodeError::EmptyPart {
                part: Part::Payload
            })
        );
    }

    #[test]
    fn duplicate_claims_are_detected_not_hidden() {
        let t = jwt(
            r#"{"alg":"RS256","alg":"none"}"#,
            r#"{"exp":1,"iat":0,"exp":99999999999,"exp":2}"#,
        );
        let d = decode(&t).unwrap();
        assert_eq!(d.duplicate_claims, ["exp"]);
        assert_eq!(d.duplicate_header_fields, ["alg"]);
        assert_eq!(d.claims_in_order.len(), 4);
        // The map agrees with serde_json: last one wins.
        assert_eq!(d.payload["exp"], 2);
    }
}
