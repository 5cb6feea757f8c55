//! Queue context schemas (JSON Schema 2020-12): compiled once when a queue is saved, checked on handover.
//! Remote `$ref`s are never fetched (the crate's resolver features are off).

use std::sync::Arc;
use switchboard_core::Violation;

/// The largest `contextSchema` a queue may carry.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct CompiledSchema(Arc<jsonschema::Validator>);

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompiledSchema")
    }
}

impl CompiledSchema {
    /// A queue's compiled context schema, if it has one.
    pub fn of(queue: &switchboard_core::config::Queue) -> Result<Option<CompiledSchema>, Violation> {
        queue.context_schema.as_ref().map(CompiledSchema::compile).transpose()
    }

    /// Compiles a schema, or says what is wrong with it (pointer `/contextSchema`).
    pub fn compile(schema: &serde_json::Value) -> Result<CompiledSchema, Violation> {
        if schema.to_string().len() > MAX_SCHEMA_BYTES {
            return Err(Violation::new("/contextSchema", format!("exceeds {MAX_SCHEMA_BYTES} bytes (maxSchemaBytes)")));
        }
        if !schema.is_object() {
            return Err(Violation::new("/contextSchema", "must be a JSON Schema object"));
        }
        jsonschema::draft202012::new(schema)
            .map(|v| CompiledSchema(Arc::new(v)))
            .map_err(|e| Violation::new("/contextSchema", format!("not a valid JSON Schema 2020-12 document: {e}")))
    }

    /// Every violation of `doc`, pointing at the offending value (a missing required property is named).
    pub fn violations(&self, doc: &serde_json::Value) -> Vec<Violation> {
        self.0
            .iter_errors(doc)
            .map(|e| {
                let mut pointer = e.instance_path().to_string();
                if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind()
                    && let Some(name) = property.as_str()
                {
                    pointer = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
                }
                let message = match e.kind() {
                    jsonschema::error::ValidationErrorKind::Required { .. } => "is required".to_string(),
                    _ => e.to_string(),
                };
                Violation::new(pointer, message)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_violation_with_a_pointer() {
        let s = CompiledSchema::compile(&json!({
            "type": "object", "required": ["orderId", "intent"],
            "properties": {"orderId": {"type": "string"}, "tries": {"type": "integer", "maximum": 3}}
        }))
        .unwrap();
        let mut v = s.violations(&json!({"tries": 5}));
        v.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        let pointers: Vec<&str> = v.iter().map(|x| x.pointer.as_str()).collect();
        assert_eq!(pointers, ["/intent", "/orderId", "/tries"]);
        assert_eq!(v[0].message, "is required");
        assert!(s.violations(&json!({"orderId": "A1", "intent": "refund"})).is_empty());
    }

    #[test]
    fn bad_and_oversize_schemas_are_refused() {
        assert!(CompiledSchema::compile(&json!({"type": "nonsense"})).is_err());
        assert!(CompiledSchema::compile(&json!("string")).is_err());
        let big = json!({"description": "x".repeat(MAX_SCHEMA_BYTES)});
        assert!(CompiledSchema::compile(&big).unwrap_err().message.contains("maxSchemaBytes"));
        // Remote references are never fetched.
        assert!(CompiledSchema::compile(&json!({"$ref": "https://example.com/schema.json"})).is_err());
    }
}
