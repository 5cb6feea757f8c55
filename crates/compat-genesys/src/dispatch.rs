//! Finds the spec operation of a (method, path): a literal segment beats a `{param}` at the same place.

use crate::{OPS, Op};
use std::collections::HashMap;
use std::sync::OnceLock;

enum Seg {
    Lit(&'static str),
    Param(&'static str),
}

type Index = HashMap<(&'static str, usize), Vec<(Op, Vec<Seg>)>>;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut idx: Index = HashMap::new();
        for spec in OPS.iter() {
            let segs: Vec<Seg> = spec
                .path
                .split('/')
                .skip(1)
                .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => Seg::Param(name),
                    None => Seg::Lit(s),
                })
                .collect();
            idx.entry((spec.method, segs.len())).or_default().push((spec.op, segs));
        }
        idx
    })
}

/// A matched operation and its path parameters (percent-decoded).
pub struct Matched {
    pub op: Op,
    pub params: Vec<(&'static str, String)>,
}

impl Matched {
    pub fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v.as_str())
    }
}

/// `None` when no operation of the spec has this method and path.
pub fn find(method: &str, path: &str) -> Option<Matched> {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let candidates = index().get(&(method_key(method)?, parts.len()))?;
    // Rank by where the literals are: more literals earlier wins, as routers with static priority do.
    let rank = |segs: &[Seg]| segs.iter().map(|s| matches!(s, Seg::Lit(_))).collect::<Vec<bool>>();
    let (op, segs) = candidates
        .iter()
        .filter(|(_, segs)| {
            segs.iter().zip(&parts).all(|(s, p)| match s {
                Seg::Lit(l) => l == p,
                Seg::Param(_) => !p.is_empty(),
            })
        })
        .max_by(|a, b| rank(&a.1).cmp(&rank(&b.1)))?;
    let params = segs
        .iter()
        .zip(&parts)
        .filter_map(|(s, p)| match s {
            Seg::Param(name) => Some((*name, crate::request::percent_decode(p))),
            Seg::Lit(_) => None,
        })
        .collect();
    Some(Matched { op: *op, params })
}

fn method_key(method: &str) -> Option<&'static str> {
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].into_iter().find(|m| *m == method)
}

/// Whether any operation has this path (to tell a wrong method from an unknown path).
pub fn path_exists(path: &str) -> bool {
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].iter().any(|m| find(m, path).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_indexed_by_the_enum() {
        for (i, spec) in OPS.iter().enumerate() {
            assert_eq!(spec.op as usize, i, "{}", spec.name);
        }
    }

    #[test]
    fn literals_beat_params() {
        let m = find("GET", "/api/v2/users/me").expect("users/me");
        assert_eq!(m.op, Op::GetUsersMe);
        let m = find("GET", "/api/v2/users/abc").expect("users/{id}");
        assert_eq!(m.op, Op::GetUser);
        assert_eq!(m.param("userId"), "abc");
        let m = find("GET", "/api/v2/conversations/calls").expect("calls");
        assert_eq!(m.op, Op::GetConversationsCalls);
        let m = find("GET", "/api/v2/conversations/calls/c%2F1").expect("a call");
        assert_eq!(m.op, Op::GetConversationsCall);
        assert_eq!(m.param("conversationId"), "c/1");
    }

    #[test]
    fn unknown_paths_and_methods_do_not_match() {
        assert!(find("GET", "/api/v2/nothing/here").is_none());
        assert!(find("TRACE", "/api/v2/users/me").is_none());
        assert!(find("PUT", "/api/v2/users/me").is_none());
        assert!(path_exists("/api/v2/users/me"));
    }
}
