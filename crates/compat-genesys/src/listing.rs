//! The vendor's paged listing envelope (`{entities, pageSize, pageNumber, total, pageCount, ...Uri}`).

use crate::GcError;
use crate::request::Query;
use serde_json::{Value, json};

pub struct Page {
    pub size: usize,
    pub number: usize,
}

impl Page {
    /// `pageSize` (1–500, default 25) and `pageNumber` (from 1).
    pub fn from(q: &Query) -> Result<Page, GcError> {
        Ok(Page {
            size: q.int("pageSize", 25, 1..=500)? as usize,
            number: q.int("pageNumber", 1, 1..=1_000_000)? as usize,
        })
    }
}

/// One page of `all`, with the URIs of its neighbours under `path`.
pub fn listing(all: Vec<Value>, page: &Page, path: &str) -> Value {
    let total = all.len();
    let count = total.div_ceil(page.size);
    let uri = |n: usize| format!("{path}?pageSize={}&pageNumber={n}", page.size);
    let entities: Vec<Value> = all.into_iter().skip((page.number - 1) * page.size).take(page.size).collect();
    let mut v = json!({
        "entities": entities,
        "pageSize": page.size,
        "pageNumber": page.number,
        "total": total,
        "pageCount": count,
        "firstUri": uri(1),
        "selfUri": uri(page.number),
        "lastUri": uri(count.max(1)),
    });
    if page.number < count {
        v["nextUri"] = json!(uri(page.number + 1));
    }
    if page.number > 1 {
        v["previousUri"] = json!(uri(page.number - 1));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_links() {
        let all: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let v = listing(all.clone(), &Page { size: 2, number: 2 }, "/x");
        assert_eq!(v["entities"], json!([2, 3]));
        assert_eq!(v["total"], 5);
        assert_eq!(v["pageCount"], 3);
        assert_eq!(v["nextUri"], "/x?pageSize=2&pageNumber=3");
        assert_eq!(v["previousUri"], "/x?pageSize=2&pageNumber=1");
        let last = listing(all.clone(), &Page { size: 2, number: 3 }, "/x");
        assert_eq!(last["entities"], json!([4]));
        assert!(last.get("nextUri").is_none());
        let past = listing(all, &Page { size: 2, number: 9 }, "/x");
        assert_eq!(past["entities"], json!([]));
    }
}
