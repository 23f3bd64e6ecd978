//! Reading a request body by the documented field names, in the sandbox's
//! own code: the client's serde types are never used for a request, so a
//! field the client misspells is refused here instead of agreeing with
//! itself. Names match ignoring ASCII case (the service's JSON reader does:
//! the doc's own example writes `identitytype`), an explicit `null` is an
//! absent field (the official library sends `"sbx": null`), and a field the
//! docs do not list is a 400 naming it.

use super::super::http::ApiError;
use serde_json::{Map, Value};

/// One JSON object of a request, checked against its documented fields.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    /// Where this object sits in the body, for messages: "" or "beneficiaries[0]".
    at: String,
}

impl<'a> Fields<'a> {
    /// `v` must be an object whose every field is one of `known`.
    pub fn new(v: &'a Value, at: &str, known: &[&str]) -> Result<Self, ApiError> {
        let Value::Object(obj) = v else {
            return Err(ApiError::bad(format!(
                "{} must be a JSON object.",
                if at.is_empty() {
                    "The request body"
                } else {
                    at
                }
            )));
        };
        let mut seen: Vec<&str> = Vec::with_capacity(obj.len());
        for name in obj.keys() {
            let Some(doc) = known.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
                return Err(ApiError::bad(unknown_field(at, name, known)));
            };
            if seen.contains(doc) {
                return Err(ApiError::bad(format!(
                    "The request gives {} twice (names are compared ignoring case).",
                    path(at, doc)
                )));
            }
            seen.push(doc);
        }
        Ok(Self {
            obj,
            at: at.to_string(),
        })
    }

    /// The field's value; `None` when absent or an explicit null.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.obj
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    fn wrong(&self, name: &str, want: &str) -> ApiError {
        ApiError::bad(format!("{} must be {want}.", path(&self.at, name)))
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn str(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.wrong(name, "a string")),
        }
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        Ok(self.str(name)?.map(str::to_string))
    }

    /// A field the docs mark required.
    pub fn required(&self, name: &str) -> Result<String, ApiError> {
        self.string(name)?
            .ok_or_else(|| ApiError::bad(format!("{} is required.", path(&self.at, name))))
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.wrong(name, "true or false")),
        }
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong(name, "a whole number")),
            Some(_) => Err(self.wrong(name, "a whole number")),
        }
    }

    /// A number, or a numeric string (the doc shows `extensionTimeInDays`
    /// as a string).
    pub fn int_or_string(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.wrong(name, "a whole number")),
            _ => self.int(name),
        }
    }

    /// An array of objects, each checked against `known`.
    pub fn objects(&self, name: &str, known: &[&str]) -> Result<Option<Vec<Fields<'a>>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| Fields::new(v, &format!("{}[{i}]", path(&self.at, name)), known))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.wrong(name, "an array")),
        }
    }

    pub fn object(&self, name: &str, known: &[&str]) -> Result<Option<Fields<'a>>, ApiError> {
        self.get(name)
            .map(|v| Fields::new(v, &path(&self.at, name), known))
            .transpose()
    }

    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| self.wrong(name, "an array of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.wrong(name, "an array of strings")),
        }
    }
}

/// Parse the body as JSON (the content type was checked by the caller).
pub fn body(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad(format!("invalid request body: {e}")))
}

fn path(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}.{name}")
    }
}

/// The 400 message for a field the docs do not list, with the documented
/// name it is closest to (a misspelling, as a person reads it).
fn unknown_field(at: &str, name: &str, known: &[&str]) -> String {
    let near = known
        .iter()
        .map(|k| {
            (
                distance(&name.to_ascii_lowercase(), &k.to_ascii_lowercase()),
                k,
            )
        })
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d);
    let mut msg = format!("The request has an unknown field {:?}", path(at, name));
    if let Some((_, k)) = near {
        msg.push_str(&format!(" (did you mean {k:?}?)"));
    }
    msg.push_str(&format!("; the fields here are {}.", known.join(", ")));
    msg
}

/// Levenshtein distance over bytes; names are short ASCII.
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_match_ignoring_case_and_null_is_absent() {
        let v = json!({"IdentityType": "b2b", "sbx": null});
        let f = Fields::new(&v, "", &["identityType", "sbx"]).unwrap();
        assert_eq!(f.str("identityType").unwrap(), Some("b2b"));
        assert_eq!(f.str("sbx").unwrap(), None);
    }

    #[test]
    fn an_unknown_field_is_refused_with_the_nearest_documented_name() {
        let v = json!({"productSkuId": []});
        let e = Fields::new(&v, "", &["productSkuIds", "sbx"])
            .err()
            .unwrap();
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        let msg = e.body.message.clone().unwrap_or_default();
        assert!(msg.contains("\"productSkuId\""), "{msg}");
        assert!(msg.contains("did you mean \"productSkuIds\""), "{msg}");
    }

    #[test]
    fn a_field_twice_and_a_wrong_type_are_refused() {
        let v = json!({"key": "a", "Key": "b"});
        assert!(Fields::new(&v, "", &["key"]).is_err());
        let v = json!({"maxPageSize": "2"});
        let f = Fields::new(&v, "", &["maxPageSize"]).unwrap();
        assert!(f.int("maxPageSize").is_err());
        let v = json!({"extensionTimeInDays": "30"});
        let f = Fields::new(&v, "", &["extensionTimeInDays"]).unwrap();
        assert_eq!(f.int_or_string("extensionTimeInDays").unwrap(), Some(30));
    }
}
