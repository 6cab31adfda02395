//! Just enough OpenAPI 3.0 to check a response body against the schema an operation
//! documents: load the description (the JSON extract kept in `openapi/`, or YAML for
//! the hand-written ones below), turn its schemas into JSON Schema (draft 7,
//! whose `$ref` also ignores its siblings, as OpenAPI 3.0 says), and look an
//! operation's response schema up by method, path and status.
//!
//! What the conversion does, and nothing more:
//! - `nullable: true` lets `null` through: `type: T` becomes `type: [T, "null"]` (and
//!   `null` joins an `enum`); a nullable schema without `type` is wrapped in
//!   `anyOf: [schema, {type: null}]`.
//! - A `$ref` keeps only the reference (OpenAPI 3.0 ignores its siblings), except that a
//!   `nullable: true` beside it is honoured, as the spec's authors evidently mean it.
//! - OpenAPI-only keywords are dropped: `example`, `examples`, `discriminator`, `xml`,
//!   `readOnly`, `writeOnly`, `deprecated`, `externalDocs`, `nullable` and every `x-…`
//!   extension; `description` and `title` too, to keep error messages short.
//! - Every other keyword is kept as it is, `format` included, and string formats are
//!   checked, with one exception: `format: uri` is checked as `uri-reference`, because
//!   the description puts it on the relative `url`s of embedded lists, whose own
//!   examples are relative (`"url": "/contacts/6762f0d01bb69f9f2193bb7d/companies"`).
//! - Property *names* are never touched: a property called `example` stays.
//!
//! Every `$ref` in the description is local (`#/components/schemas/…`), so one document
//! `{"allOf": [<operation schema>], "components": {"schemas": {…}}}` resolves them all.

use std::collections::HashMap;
use std::sync::Mutex;

use jsonschema::{Draft, Validator};
use serde_json::{json, Map, Value};

/// Keywords of the OpenAPI Schema Object that JSON Schema does not have, or that only
/// confuse a validator.
const DROPPED: &[&str] = &[
    "nullable",
    "example",
    "examples",
    "discriminator",
    "xml",
    "readOnly",
    "writeOnly",
    "deprecated",
    "externalDocs",
    "description",
    "title",
];

/// One OpenAPI description, loaded and converted.
pub struct Spec {
    /// Which file, for messages ("2.16", "2.14").
    pub label: String,
    /// The description as written.
    pub raw: Value,
    /// `components.schemas`, converted to JSON Schema.
    schemas: Value,
    validators: Mutex<HashMap<String, std::sync::Arc<Validator>>>,
}

/// One node of `components.schemas` replaced, for a known error of the description.
pub struct Patch {
    /// JSON pointer inside `components.schemas`, e.g. `/company/properties/custom_attributes`.
    pub pointer: String,
    /// Keys that the node must still have as written (else the patch is refused: the
    /// description changed and the allowance needs a second look).
    pub expect: Value,
    /// The node that replaces it, in OpenAPI form.
    pub replace: Value,
}

/// An operation's response, as the description documents it.
pub struct Documented {
    /// The path template the request matched, e.g. `/companies/{company_id}`.
    pub template: String,
    /// The schema as written, before conversion.
    pub schema: Value,
    /// The named examples of that response: (name, value).
    pub examples: Vec<(String, Value)>,
}

impl Spec {
    /// A description in JSON, such as an extract made by `scripts/extract-openapi.py`.
    pub fn load(label: &str, path: &str) -> Result<Spec, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read the {label} description at {path}: {e}"))?;
        let raw = serde_json::from_str(&text).map_err(|e| format!("the {label} description is not valid JSON: {e}"))?;
        Ok(Spec::new(label, raw))
    }

    /// A description in YAML.
    pub fn parse(label: &str, yaml: &str) -> Result<Spec, String> {
        let value: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(yaml).map_err(|e| format!("the {label} description is not valid YAML: {e}"))?;
        Ok(Spec::new(label, yaml_to_json(value)?))
    }

    fn new(label: &str, raw: Value) -> Spec {
        let schemas = match raw.pointer("/components/schemas") {
            Some(Value::Object(map)) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), to_json_schema(v))).collect())
            }
            _ => json!({}),
        };
        Spec { label: label.into(), raw, schemas, validators: Mutex::new(HashMap::new()) }
    }

    /// The path template of the description that a concrete path (query string allowed)
    /// falls under. Literal segments beat parameters: `/companies/scroll` is not
    /// `/companies/{company_id}`.
    pub fn template_for(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or(path);
        let wanted: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let paths = self.raw.get("paths")?.as_object()?;
        if paths.contains_key(path) {
            return Some(path.to_string());
        }
        paths
            .keys()
            .filter_map(|template| {
                let segments: Vec<&str> = template.split('/').collect();
                if segments.len() != wanted.len() {
                    return None;
                }
                let mut literal = 0;
                for (t, w) in segments.iter().zip(&wanted) {
                    if t.starts_with('{') && t.ends_with('}') {
                        continue;
                    }
                    if t != w {
                        return None;
                    }
                    literal += 1;
                }
                Some((literal, template))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, template)| template.clone())
    }

    /// `paths.<template>.<method>.responses.<status>.content.application/json`.
    pub fn documented(&self, method: &str, path: &str, status: u16) -> Result<Documented, String> {
        let label = &self.label;
        let template =
            self.template_for(path).ok_or_else(|| format!("the {label} description has no path matching {path}"))?;
        let operation = self.raw["paths"][&template]
            .get(method.to_ascii_lowercase())
            .ok_or_else(|| format!("the {label} description has no {method} {template}"))?;
        let response = operation["responses"]
            .get(status.to_string())
            .ok_or_else(|| format!("the {label} description documents no {status} response for {method} {template}"))?;
        let content = response.pointer("/content/application~1json").ok_or_else(|| {
            format!("the {status} response of {method} {template} has no application/json content in {label}")
        })?;
        let schema = content
            .get("schema")
            .cloned()
            .ok_or_else(|| format!("the {status} response of {method} {template} has no schema in {label}"))?;
        let examples = match content.get("examples") {
            Some(Value::Object(map)) => {
                map.iter().filter_map(|(name, e)| Some((name.clone(), e.get("value")?.clone()))).collect()
            }
            _ => content.get("example").map(|v| vec![("example".to_string(), v.clone())]).unwrap_or_default(),
        };
        Ok(Documented { template, schema, examples })
    }

    /// A validator for any OpenAPI schema of this description (it may `$ref` into
    /// `components.schemas`).
    pub fn validator(&self, schema: &Value) -> Result<std::sync::Arc<Validator>, String> {
        self.validator_with(schema, &[])
    }

    /// The same, with some nodes of `components.schemas` replaced first.
    pub fn validator_with(&self, schema: &Value, patches: &[Patch]) -> Result<std::sync::Arc<Validator>, String> {
        // The expectations first: a cached validator must not hide a changed description.
        let mut components = vec![];
        for patch in patches {
            let (top, _) = patch
                .pointer
                .trim_start_matches('/')
                .split_once('/')
                .unwrap_or((patch.pointer.trim_start_matches('/'), ""));
            let mut component = self
                .raw
                .pointer(&format!("/components/schemas/{top}"))
                .cloned()
                .ok_or_else(|| format!("the {} description has no schema {top}", self.label))?;
            let rest = &patch.pointer[top.len() + 1..];
            let node = component
                .pointer_mut(rest)
                .ok_or_else(|| format!("the {} description has no node {} any more", self.label, patch.pointer))?;
            for (k, v) in patch.expect.as_object().into_iter().flatten() {
                if node.get(k) != Some(v) {
                    return Err(format!(
                        "the {} description changed at {}: {k} is {} where the allowance expects {v}; review the allowance",
                        self.label,
                        patch.pointer,
                        node.get(k).map(Value::to_string).unwrap_or_else(|| "missing".into())
                    ));
                }
            }
            *node = patch.replace.clone();
            components.push((top.to_string(), component));
        }
        let converted = to_json_schema(schema);
        let key = format!(
            "{converted}{}",
            patches.iter().map(|p| format!("|{}={}", p.pointer, p.replace)).collect::<String>()
        );
        if let Some(v) = self.validators.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(v.clone());
        }
        let mut schemas = self.schemas.clone();
        for (top, component) in &components {
            schemas[top.as_str()] = to_json_schema(component);
        }
        let document = json!({
            "allOf": [converted],
            "components": {"schemas": schemas},
        });
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .should_ignore_unknown_formats(true)
            .build(&document)
            .map_err(|e| format!("the {} schema {schema} does not compile: {e}", self.label))?;
        let validator = std::sync::Arc::new(validator);
        self.validators.lock().unwrap_or_else(|p| p.into_inner()).insert(key, validator.clone());
        Ok(validator)
    }

    /// The schema `#/components/schemas/<name>`, as a validator.
    pub fn component(&self, name: &str) -> Result<std::sync::Arc<Validator>, String> {
        if self.raw.pointer(&format!("/components/schemas/{name}")).is_none() {
            return Err(format!("the {} description has no schema {name}", self.label));
        }
        self.validator(&json!({"$ref": format!("#/components/schemas/{name}")}))
    }

    /// Every way `instance` breaks the schema, one line each, empty if it is valid. The
    /// same broken schema node is shown three times at most, then counted.
    pub fn errors(&self, validator: &Validator, instance: &Value) -> Vec<String> {
        let mut shown_per_node: Vec<(String, usize)> = vec![];
        let mut lines = vec![];
        for e in validator.iter_errors(instance) {
            let node = e.schema_path().to_string();
            let seen = match shown_per_node.iter_mut().find(|(n, _)| *n == node) {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    shown_per_node.push((node.clone(), 1));
                    1
                }
            };
            if seen > 3 {
                continue;
            }
            let at = e.instance_path().to_string();
            let value = short(&instance.pointer(&at).map(|v| v.to_string()).unwrap_or_default(), 80);
            let at = if at.is_empty() { "/".to_string() } else { at };
            lines.push(format!("at {at} = {value}: {} [schema {node}]", short(&e.to_string(), 200)));
        }
        for (node, count) in shown_per_node {
            if count > 3 {
                lines.push(format!("… and {} more at schema {node}", count - 3));
            }
        }
        lines
    }
}

/// Error texts quote the whole failing value; keep the first `n` characters.
fn short(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// YAML to JSON. Mapping keys become strings: response codes are written `200:` and
/// would otherwise be integers.
pub fn yaml_to_json(value: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f).map(Value::Number).ok_or_else(|| format!("{f} has no JSON form"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".into(),
                    other => return Err(format!("a mapping key is not a scalar: {other:?}")),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

/// One OpenAPI 3.0 Schema Object to JSON Schema (draft 7). See the module comment.
pub fn to_json_schema(schema: &Value) -> Value {
    let Value::Object(map) = schema else { return schema.clone() };
    let nullable = map.get("nullable") == Some(&Value::Bool(true));
    if let Some(reference) = map.get("$ref") {
        let only = json!({"$ref": reference});
        return if nullable { json!({"anyOf": [only, {"type": "null"}]}) } else { only };
    }
    let mut out = Map::new();
    for (key, value) in map {
        if DROPPED.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let converted = match key.as_str() {
            "properties" | "patternProperties" | "definitions" => match value {
                Value::Object(props) => {
                    Value::Object(props.iter().map(|(k, v)| (k.clone(), to_json_schema(v))).collect())
                }
                other => other.clone(),
            },
            "items" | "not" | "additionalProperties" | "additionalItems" | "contains" | "propertyNames" => {
                match value {
                    Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
                    other => to_json_schema(other),
                }
            }
            "allOf" | "anyOf" | "oneOf" => match value {
                Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
                other => other.clone(),
            },
            "format" if value == "uri" => json!("uri-reference"),
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if !nullable {
        return Value::Object(out);
    }
    match out.get("type").cloned() {
        Some(Value::String(t)) => {
            out.insert("type".into(), json!([t, "null"]));
            if let Some(Value::Array(values)) = out.get_mut("enum") {
                if !values.contains(&Value::Null) {
                    values.push(Value::Null);
                }
            }
            Value::Object(out)
        }
        _ => json!({"anyOf": [Value::Object(out), {"type": "null"}]}),
    }
}

#[cfg(test)]
mod machinery {
    //! The conversion itself, on tiny hand-written descriptions.

    use super::*;

    const TINY: &str = r##"
openapi: 3.0.1
paths:
  /companies/scroll:
    get:
      responses:
        200:
          content:
            application/json:
              schema: {$ref: "#/components/schemas/company"}
  /companies/{company_id}:
    get:
      responses:
        '200':
          content:
            application/json:
              schema: {$ref: "#/components/schemas/company"}
              examples:
                Successful: {value: {type: company, id: "1", plan: null}}
components:
  schemas:
    company:
      type: object
      required: [type, id]
      example: {type: company}
      properties:
        type: {type: string, enum: [company]}
        id: {type: string}
        example: {type: integer, description: "a property named like a keyword"}
        website: {type: string, nullable: true, example: "https://x.y"}
        size: {type: string, enum: [small, big], nullable: true}
        plan: {$ref: "#/components/schemas/plan", nullable: true}
        pages: {$ref: "#/components/schemas/pages"}
        created_at: {type: integer, format: date-time}
        request_id: {type: string, format: uuid}
        url: {type: string, format: uri}
    plan:
      type: object
      properties:
        name: {type: string}
    pages:
      nullable: true
      allOf:
        - {$ref: "#/components/schemas/plan"}
      discriminator: {propertyName: name}
"##;

    fn tiny() -> Spec {
        Spec::parse("tiny", TINY).expect("the tiny description parses")
    }

    fn valid(spec: &Spec, name: &str, instance: Value) -> Vec<String> {
        let v = spec.component(name).expect("the component compiles");
        spec.errors(&v, &instance)
    }

    #[test]
    fn a_nullable_string_accepts_null() {
        assert_eq!(
            valid(&tiny(), "company", json!({"type": "company", "id": "1", "website": null})),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_string_that_is_not_nullable_rejects_null() {
        assert!(
            !valid(&tiny(), "company", json!({"type": "company", "id": null})).is_empty(),
            "id: null must be refused"
        );
    }

    #[test]
    fn a_nullable_enum_accepts_null_and_still_rejects_other_values() {
        let spec = tiny();
        assert!(valid(&spec, "company", json!({"type": "company", "id": "1", "size": null})).is_empty());
        assert!(!valid(&spec, "company", json!({"type": "company", "id": "1", "size": "huge"})).is_empty());
    }

    #[test]
    fn a_nullable_ref_accepts_null_and_still_checks_the_referenced_schema() {
        let spec = tiny();
        assert!(valid(&spec, "company", json!({"type": "company", "id": "1", "plan": null})).is_empty());
        let errors = valid(&spec, "company", json!({"type": "company", "id": "1", "plan": {"name": 3}}));
        assert!(!errors.is_empty(), "plan.name must be a string");
    }

    #[test]
    fn a_nullable_schema_without_a_type_accepts_null() {
        let spec = tiny();
        assert!(valid(&spec, "company", json!({"type": "company", "id": "1", "pages": null})).is_empty());
        assert!(!valid(&spec, "company", json!({"type": "company", "id": "1", "pages": {"name": false}})).is_empty());
    }

    #[test]
    fn a_ref_to_company_resolves_and_enforces_required_fields() {
        let errors = valid(&tiny(), "company", json!({"type": "company"}));
        assert_eq!(errors.len(), 1, "only the missing id is wrong: {errors:#?}");
        assert!(errors[0].contains("\"id\" is a required property"), "{errors:#?}");
    }

    #[test]
    fn an_enum_rejects_an_undocumented_value() {
        assert!(!valid(&tiny(), "company", json!({"type": "organisation", "id": "1"})).is_empty());
    }

    #[test]
    fn a_property_named_example_is_kept_while_the_example_keyword_is_dropped() {
        let spec = tiny();
        let converted = &spec.schemas["company"];
        assert!(converted.get("example").is_none(), "the example keyword is dropped");
        assert!(converted["properties"].get("example").is_some(), "the property called example is kept");
        assert!(!valid(&spec, "company", json!({"type": "company", "id": "1", "example": "not an integer"})).is_empty());
    }

    #[test]
    fn openapi_only_keywords_are_dropped() {
        let text = tiny().schemas.to_string();
        for keyword in [
            "nullable",
            "discriminator",
            "propertyName",
            "\"example\":{\"type\":\"company\"}",
            "description",
            "a property named",
        ] {
            assert!(!text.contains(keyword), "{keyword} is still in {text}");
        }
    }

    #[test]
    fn string_formats_are_checked_and_integer_timestamps_are_left_alone() {
        let spec = tiny();
        assert!(valid(&spec, "company", json!({"type": "company", "id": "1", "created_at": 1734537334})).is_empty());
        assert!(valid(
            &spec,
            "company",
            json!({"type": "company", "id": "1", "request_id": "f93ecfa8-d08a-4325-8694-89aeb89c8f85"})
        )
        .is_empty());
        assert!(!valid(&spec, "company", json!({"type": "company", "id": "1", "request_id": "not-a-uuid"})).is_empty());
    }

    #[test]
    fn a_uri_may_be_relative_but_not_malformed() {
        let spec = tiny();
        assert!(
            valid(&spec, "company", json!({"type": "company", "id": "1", "url": "/contacts/1/companies"})).is_empty()
        );
        assert!(valid(
            &spec,
            "company",
            json!({"type": "company", "id": "1", "url": "https://api.intercom.io/companies"})
        )
        .is_empty());
        assert!(!valid(&spec, "company", json!({"type": "company", "id": "1", "url": "http://bad host/ x"})).is_empty());
    }

    #[test]
    fn a_patch_replaces_one_node_and_refuses_a_changed_description() {
        let spec = tiny();
        let patch = |expect: Value| Patch {
            pointer: "/company/properties/id".into(),
            expect,
            replace: json!({"type": "integer"}),
        };
        let patched = spec
            .validator_with(&json!({"$ref": "#/components/schemas/company"}), &[patch(json!({"type": "string"}))])
            .expect("the patched schema compiles");
        assert!(spec.errors(&patched, &json!({"type": "company", "id": 7})).is_empty(), "the patched node applies");
        assert!(
            !spec.errors(&patched, &json!({"type": "company", "id": 7, "size": "huge"})).is_empty(),
            "the rest still applies"
        );
        let refused =
            spec.validator_with(&json!({"$ref": "#/components/schemas/company"}), &[patch(json!({"type": "boolean"}))]);
        assert!(refused.is_err(), "a patch whose expectation no longer holds is refused");
    }

    #[test]
    fn a_concrete_path_finds_its_template_and_literal_segments_win() {
        let spec = tiny();
        assert_eq!(spec.template_for("/companies/abc123").as_deref(), Some("/companies/{company_id}"));
        assert_eq!(spec.template_for("/companies/scroll?scroll_param=x").as_deref(), Some("/companies/scroll"));
        assert_eq!(spec.template_for("/nowhere"), None);
    }

    #[test]
    fn integer_status_codes_and_quoted_ones_are_both_found() {
        let spec = tiny();
        assert!(spec.documented("GET", "/companies/scroll", 200).is_ok());
        let documented = spec.documented("GET", "/companies/1", 200).expect("the quoted '200' is found");
        assert_eq!(documented.examples.len(), 1);
        assert!(spec.documented("GET", "/companies/1", 404).is_err(), "an undocumented status is an error");
    }
}
