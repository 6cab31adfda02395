//! `GET/POST /data_attributes` and `PUT /data_attributes/{id}`, with the name rules,
//! the cross-model uniqueness and the 250-attribute budget (docs/intercom.md §8.2).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Extension;
use serde_json::{json, Map, Value};

use super::ok;
use crate::error::{ApiError, ApiResult};
use crate::model::{DataAttribute, Model};
use crate::params::{json_object, Query};
use crate::state::State as Workspace;
use crate::version::ApiVersion;
use crate::{render, Sandbox};

const CUSTOM_ATTRIBUTE_BUDGET: usize = 250;

pub async fn list(
    State(sandbox): State<Sandbox>,
    Extension(v): Extension<ApiVersion>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let query = Query::parse(q.as_deref());
    let include_archived = query.bool("include_archived")?.unwrap_or(false);
    let model = match query.get("model") {
        None => None,
        Some("conversation") if v.at_least_2_16() => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "parameter_invalid",
                "Conversation attributes are no longer returned by this endpoint. Use GET /conversations/attributes instead.",
            ))
        }
        // Before 2.16 the model was accepted; the sandbox has no conversation attributes.
        Some("conversation") => return Ok(ok(json!({"type": "list", "data": []}))),
        Some(other) => Some(Model::parse(other).ok_or_else(model_error)?),
    };
    let state = sandbox.lock();
    let data: Vec<Value> = state
        .attributes
        .iter()
        .filter(|a| model.is_none_or(|m| a.model == m))
        .filter(|a| include_archived || !a.archived)
        .map(render::data_attribute)
        .collect();
    Ok(ok(json!({"type": "list", "data": data})))
}

fn model_error() -> ApiError {
    ApiError::parameter_invalid("The Data Attribute model field must be either contact or company").with_field("model")
}

fn data_label(model: Model) -> &'static str {
    match model {
        Model::Contact => "people",
        Model::Company => "company",
    }
}

/// Letters and digits of any script, spaces, currency symbols and hyphens.
fn valid_name(name: &str) -> bool {
    const CURRENCY: &str = "$¢£¤¥֏؋߾߿৲৳৻૱௹฿៛₠₡₢₣₤₥₦₧₨₩₪₫€₭₮₯₰₱₲₳₴₵₶₷₸₹₺₻₼₽₾₿﷼﹩＄￠￡￥￦";
    !name.trim().is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || CURRENCY.contains(c))
}

fn options_of(value: Option<&Value>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    let Some(items) = value.as_array() else {
        return Err(ApiError::parameter_invalid("Options isn't an array").with_field("options"));
    };
    let options: Vec<String> =
        items.iter().filter_map(|o| o.get("value").and_then(Value::as_str).map(str::to_string)).collect();
    if options.len() != items.len() || options.len() < 2 {
        return Err(ApiError::parameter_invalid(
            "Options must contain at least two entries of the form {\"value\": \"…\"}",
        )
        .with_field("options"));
    }
    Ok(Some(options))
}

#[expect(
    clippy::too_many_arguments,
    reason = "one argument per field of Intercom's data attribute, named at each call"
)]
pub fn new_custom(
    id: i64,
    model: Model,
    name: &str,
    data_type: &str,
    description: &str,
    options: Vec<String>,
    admin_id: Option<String>,
    now: i64,
) -> DataAttribute {
    DataAttribute {
        id: Some(id),
        model,
        name: name.to_string(),
        full_name: format!("custom_attributes.{name}"),
        label: name.to_string(),
        description: description.to_string(),
        data_type: data_type.to_string(),
        options,
        api_writable: true,
        messenger_writable: false,
        custom: true,
        archived: false,
        admin_id,
        created_at: now,
        updated_at: now,
    }
}

pub async fn create(State(sandbox): State<Sandbox>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let name = body.get("name").and_then(Value::as_str).map(str::trim).unwrap_or("");
    if name.is_empty() {
        return Err(
            ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "Name is required").with_field("name")
        );
    }
    let model = body.get("model").and_then(Value::as_str).and_then(Model::parse).ok_or_else(model_error)?;
    let requested_type = body.get("data_type").and_then(Value::as_str).unwrap_or("");
    let data_type = match requested_type {
        "string" | "integer" | "float" | "boolean" | "date" => requested_type,
        "datetime" => "date",
        "options" => "string",
        _ => return Err(ApiError::parameter_invalid("Data Type isn't an option").with_field("data_type")),
    };
    let options = match (requested_type, options_of(body.get("options"))?) {
        ("options", None) => {
            return Err(ApiError::parameter_invalid("Options must contain at least two entries").with_field("options"))
        }
        (_, options) => options.unwrap_or_default(),
    };
    if !valid_name(name) {
        return Err(ApiError::parameter_invalid(
            "Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens",
        )
        .with_field("name"));
    }
    let description = body.get("description").and_then(Value::as_str).unwrap_or("");
    // Off by default since 2.11.
    let messenger_writable = body.get("messenger_writable").and_then(Value::as_bool).unwrap_or(false);

    let mut state = sandbox.lock();
    let taken = state.attributes.iter().find(|a| a.custom && a.name.eq_ignore_ascii_case(name)).map(|a| a.model);
    if let Some(existing) = taken {
        return Err(ApiError::parameter_invalid(format!(
            "You already have '{name}' in your {} data. To save this as new {} data, use a different name.",
            data_label(existing),
            data_label(model)
        ))
        .with_field("name"));
    }
    if state.active_custom_attributes() >= CUSTOM_ATTRIBUTE_BUDGET {
        return Err(ApiError::parameter_invalid(format!(
            "You have reached the limit of {CUSTOM_ATTRIBUTE_BUDGET} custom data attributes. Archive some to make room."
        )));
    }
    let now = state.now();
    let id = state.next_attribute_id;
    state.next_attribute_id += 1;
    let admin_id = state.admins.first().map(|a| a.id.to_string());
    let mut attribute = new_custom(id, model, name, data_type, description, options, admin_id, now);
    attribute.messenger_writable = messenger_writable;
    let out = render::data_attribute(&attribute);
    state.attributes.push(attribute);
    state.touch();
    Ok(ok(out))
}

pub async fn update(State(sandbox): State<Sandbox>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let not_found =
        || ApiError::new(StatusCode::NOT_FOUND, "field_not_found", "We couldn't find that data attribute to update");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let body: Map<String, Value> = json_object(&body)?;
    for key in body.keys() {
        match key.as_str() {
            "archived" | "description" | "messenger_writable" | "options" => {}
            "data_type" => {
                return Err(ApiError::parameter_invalid("The data type of an attribute cannot be changed")
                    .with_field("data_type"))
            }
            other => return Err(ApiError::bad_request(format!("bad '{other}' parameter"))),
        }
    }
    let options = options_of(body.get("options"))?;
    let mut state: std::sync::MutexGuard<'_, Workspace> = sandbox.lock();
    let now = state.now();
    let attribute = state.attributes.iter_mut().find(|a| a.id == Some(id)).ok_or_else(not_found)?;
    if let Some(archived) = body.get("archived").and_then(Value::as_bool) {
        attribute.archived = archived;
    }
    if let Some(description) = body.get("description").and_then(Value::as_str) {
        attribute.description = description.to_string();
    }
    if let Some(writable) = body.get("messenger_writable").and_then(Value::as_bool) {
        attribute.messenger_writable = writable;
    }
    if let Some(options) = options {
        attribute.options = options;
    }
    attribute.updated_at = now;
    let out = render::data_attribute(attribute);
    state.touch();
    Ok(ok(out))
}

/// Checks `custom_attributes` of a write against the model's attributes. Writes to
/// archived attributes are dropped silently, as one vendor observed (UNCONFIRMED).
pub fn checked_custom_attributes(
    state: &Workspace,
    model: Model,
    value: &Value,
) -> Result<Vec<(String, Value)>, ApiError> {
    let Some(map) = value.as_object() else {
        return Err(ApiError::parameter_invalid("custom_attributes must be an object").with_field("custom_attributes"));
    };
    let mut out = Vec::new();
    for (name, value) in map {
        let Some(attribute) = state.custom_attribute(model, name) else {
            return Err(ApiError::parameter_invalid(format!("Custom attribute '{name}' does not exist"))
                .with_field(format!("custom_attributes.{name}")));
        };
        if attribute.archived {
            continue;
        }
        let fits = match attribute.data_type.as_str() {
            _ if value.is_null() => true,
            "string" => value.is_string(),
            "integer" | "date" => value.is_i64() || value.is_u64(),
            "float" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !fits {
            return Err(ApiError::parameter_invalid(format!(
                "Custom attribute '{name}' must be of type {}",
                attribute.data_type
            ))
            .with_field(format!("custom_attributes.{name}")));
        }
        out.push((name.clone(), value.clone()));
    }
    Ok(out)
}
