//! Tolerant input, as the SDKs send it: `null` or empty bodies, unknown fields, comma lists encoded or not.

use crate::GcError;
use serde::de::DeserializeOwned;

/// Query parameters, percent-decoded; list-typed params split on commas into repeated entries.
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>, list_params: &[&str]) -> Self {
        let mut out = Vec::new();
        for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (percent_decode(&k.replace('+', " ")), percent_decode(&v.replace('+', " ")));
            if list_params.contains(&k.as_str()) {
                out.extend(v.split(',').filter(|s| !s.is_empty()).map(|s| (k.clone(), s.to_string())));
            } else {
                out.push((k, v));
            }
        }
        Query(out)
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }
    /// An integer param within `range`, or its default; anything else is a 400 naming the param.
    pub fn int(&self, key: &str, default: i64, range: std::ops::RangeInclusive<i64>) -> Result<i64, GcError> {
        match self.get(key) {
            None | Some("") => Ok(default),
            Some(v) => v.parse::<i64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                GcError::invalid_field(key, &format!("must be an integer from {} to {}", range.start(), range.end()))
            }),
        }
    }
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON body; empty or the literal `null` (what the SDKs send for "no body") is the default.
pub fn body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, GcError> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Ok(T::default());
    }
    serde_json::from_slice(trimmed).map_err(|e| GcError::bad_request(format!("the request body is not valid: {e}")))
}

/// A required JSON body.
pub fn required_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, GcError> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Err(GcError::bad_request("this operation needs a request body"));
    }
    serde_json::from_slice(trimmed).map_err(|e| GcError::bad_request(format!("the request body is not valid: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_encoded_or_not_and_repeated() {
        let q = Query::parse(Some("id=a%2Cb&id=c&name=x%2Cy&pageSize=2"), &["id"]);
        assert_eq!(q.all("id"), vec!["a", "b", "c"]);
        assert_eq!(q.get("name"), Some("x,y"), "only list params split");
        assert_eq!(q.int("pageSize", 25, 1..=500).unwrap(), 2);
        assert!(q.int("name", 1, 1..=5).is_err());
        let q = Query::parse(Some("id=a,b"), &["id"]);
        assert_eq!(q.all("id"), vec!["a", "b"]);
    }

    #[test]
    fn percent_decoding_is_total() {
        assert_eq!(percent_decode("a%20b%"), "a b%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
    }

    #[test]
    fn null_and_empty_bodies_are_defaults() {
        #[derive(serde::Deserialize, Default, PartialEq, Debug)]
        struct B {
            x: Option<i32>,
        }
        assert_eq!(body::<B>(b"null").unwrap(), B::default());
        assert_eq!(body::<B>(b"").unwrap(), B::default());
        assert_eq!(body::<B>(br#"{"x":1,"unknown":true}"#).unwrap(), B { x: Some(1) });
        assert!(required_body::<B>(b"null").is_err());
    }
}
