//! JSON through the browser: text is parsed by `JSON.parse` and written by `JSON.stringify`,
//! and crosses into Rust as a [`serde_json::Value`] that the protocol's types decode from
//! ([`dgbot_protocol::from_value`]). The widget then carries no JSON text parser or writer of
//! its own (BENCHMARKS.md, "Bundle sizes").

use js_sys::{Array, JSON, Object};
use serde_json::{Number, Value};
use wasm_bindgen::{JsCast, JsValue};

/// JSON text as a value, or `JSON.parse`'s complaint.
pub fn parse(text: &str) -> Result<Value, String> {
    let v = JSON::parse(text).map_err(|e| {
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "not JSON".into())
    })?;
    convert(&v, 0).ok_or_else(|| format!("nested deeper than {MAX_DEPTH} levels"))
}

/// `value` as JSON text.
pub fn stringify(value: &impl serde::Serialize) -> Result<String, String> {
    let value = serde_json::to_value(value).map_err(|e| e.to_string())?;
    JSON::stringify(&to_js(&value))
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| "not serializable".into())
}

/// As deep as serde_json's own parser goes (its recursion limit): deeper input, or a value
/// that refers to itself (a `MessageEvent` may carry one), is refused rather than overflowing
/// the stack.
const MAX_DEPTH: usize = 128;

/// A JavaScript value (what `JSON.parse` or a `MessageEvent` gives) as a JSON value: `null`
/// when it nests deeper than `MAX_DEPTH`. Whole numbers become integers, so integer fields
/// decode; what JSON has no word for is `null`.
pub fn from_js(v: &JsValue) -> Value {
    convert(v, 0).unwrap_or(Value::Null)
}

fn convert(v: &JsValue, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(if let Some(s) = v.as_string() {
        Value::String(s)
    } else if let Some(n) = v.as_f64() {
        number(n)
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if Array::is_array(v) {
        let mut items = Vec::new();
        for x in v.unchecked_ref::<Array>().iter() {
            items.push(convert(&x, depth + 1)?);
        }
        Value::Array(items)
    } else if v.is_object() {
        // Inserted one by one: collecting would sort the entries first (more code).
        let mut fields = serde_json::Map::new();
        for entry in Object::entries(v.unchecked_ref()).iter() {
            let entry: Array = entry.unchecked_into();
            if let Some(key) = entry.get(0).as_string() {
                fields.insert(key, convert(&entry.get(1), depth + 1)?);
            }
        }
        Value::Object(fields)
    } else {
        Value::Null
    })
}

fn number(n: f64) -> Value {
    const SAFE: f64 = 9_007_199_254_740_991.0; // 2^53 - 1
    if n.fract() == 0.0 && n.abs() <= SAFE {
        if n >= 0.0 {
            Value::Number((n as u64).into())
        } else {
            Value::Number((n as i64).into())
        }
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// A JSON value as the JavaScript value `JSON.parse` would make of its text.
pub fn to_js(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or_default()),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(to_js).collect::<Array>().into(),
        Value::Object(fields) => {
            let object = Object::new();
            for (key, field) in fields {
                let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &to_js(field));
            }
            object.into()
        }
    }
}
