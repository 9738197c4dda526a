//! PATCH (RFC 7644 §3.5.2): a PatchOp request parsed into typed operations, and those applied
//! to a resource's SCIM JSON form, all or nothing.
//!
//! What the providers send and we therefore accept: `op` in any case (Entra ID writes `Add`,
//! `Replace`, `Remove`); booleans as strings (`"False"`) for boolean attributes; operations
//! without `path` whose value names attributes by simple, dotted (`"name.givenName"`) or
//! URN-prefixed keys, or holds a whole extension object under its URN; value-filter paths
//! (`emails[type eq "work"].value`) that create the value when none matches, since Entra ID
//! adds an address or phone number that way; Entra ID's legacy `remove` with a `value` listing
//! what to take out of a multi-valued attribute.
//!
//! What the service provider owns: a path that targets a read-only attribute (`id`, `meta`,
//! `schemas`) fails with `mutability`, while a read-only attribute inside a value without path
//! is ignored, as RFC 7644 §3.5.1 has a PUT ignore it (Okta sends `id` along that way). An
//! immutable attribute (`userName`) may be given its current value again, not another one.
//! Attributes the schema does not know are kept in the JSON like any other, under their
//! normalised (lower-case) name; what the service maps back from the result decides whether
//! they matter.

use std::fmt;

use serde_json::{Map, Value};

use super::ScimType;
use super::evaluate::{get, matches_value};
use super::filter::{CompValue, CompareOp, Filter, parse_value_path};
use super::path::{AttrPath, ParsedName, parse_name};
use super::schema::{Attribute, AttributeType, Mutability, ResourceSchema};

pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Entra ID sends one operation per changed attribute, Okta one or two; a user has some
/// fifteen attributes.
pub const MAX_PATCH_OPERATIONS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOp {
    Add,
    Replace,
    Remove,
}

impl PatchOp {
    fn from_name(name: &str) -> Option<PatchOp> {
        [PatchOp::Add, PatchOp::Replace, PatchOp::Remove]
            .into_iter()
            .find(|op| name.eq_ignore_ascii_case(op.as_str()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PatchOp::Add => "add",
            PatchOp::Replace => "replace",
            PatchOp::Remove => "remove",
        }
    }
}

/// RFC 7644 §3.5.2 `PATH = attrPath / valuePath [subAttr]`, plus a bare extension URN.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchPath {
    /// `title`, `name.givenName`, `urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User:role`.
    Attribute(AttrPath),
    /// `emails[type eq "work"]` or `emails[type eq "work"].value`.
    ValueFilter {
        attr: AttrPath,
        filter: Filter,
        sub_attr: Option<String>,
    },
    /// A whole extension, by its lower-case URN.
    Extension(String),
}

impl PatchPath {
    pub fn parse(input: &str) -> Result<PatchPath, PatchError> {
        let input = input.trim();
        if input.contains('[') {
            let (attr, filter, sub_attr) = parse_value_path(input)
                .map_err(|error| PatchError::InvalidPath(format!("`{input}`: {}", error.reason)))?;
            return Ok(PatchPath::ValueFilter { attr, filter, sub_attr });
        }
        match parse_name(input).map_err(PatchError::InvalidPath)? {
            ParsedName::Attribute(path) => Ok(PatchPath::Attribute(path)),
            ParsedName::Schema(urn) => Ok(PatchPath::Extension(urn)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOp,
    pub path: Option<PatchPath>,
    /// Present for every `add` and `replace`; an object of attributes when `path` is `None`.
    pub value: Option<Value>,
}

/// Why a PATCH was refused; every one is a 400 with the `scimType` of [`PatchError::scim_type`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    /// Not a PatchOp message: `schemas`, `Operations` or `op` wrong or missing.
    InvalidSyntax(String),
    InvalidPath(String),
    /// `remove` without a path, or a value filter that matches nothing and cannot make a value.
    NoTarget(String),
    InvalidValue(String),
    /// A read-only attribute targeted, or an immutable one changed.
    Mutability(String),
}

impl PatchError {
    pub fn scim_type(&self) -> ScimType {
        match self {
            PatchError::InvalidSyntax(_) => ScimType::InvalidSyntax,
            PatchError::InvalidPath(_) => ScimType::InvalidPath,
            PatchError::NoTarget(_) => ScimType::NoTarget,
            PatchError::InvalidValue(_) => ScimType::InvalidValue,
            PatchError::Mutability(_) => ScimType::Mutability,
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            PatchError::InvalidSyntax(detail)
            | PatchError::InvalidPath(detail)
            | PatchError::NoTarget(detail)
            | PatchError::InvalidValue(detail)
            | PatchError::Mutability(detail) => detail,
        }
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.detail())
    }
}

impl std::error::Error for PatchError {}

/// Reads a PATCH request body: `schemas` listing the PatchOp URN and 1 to
/// [`MAX_PATCH_OPERATIONS`] `Operations` (member names in any case, as SCIM's are).
pub fn parse_patch_request(body: &Value) -> Result<Vec<PatchOperation>, PatchError> {
    let syntax = |detail: &str| PatchError::InvalidSyntax(detail.to_string());
    let body = body
        .as_object()
        .ok_or_else(|| syntax("a PatchOp request is a JSON object"))?;
    let lists_patch_op = get(body, "schemas").and_then(Value::as_array).is_some_and(|schemas| {
        schemas
            .iter()
            .any(|urn| urn.as_str().is_some_and(|urn| urn.eq_ignore_ascii_case(PATCH_OP_URN)))
    });
    if !lists_patch_op {
        return Err(PatchError::InvalidSyntax(format!("`schemas` must list {PATCH_OP_URN}")));
    }
    let operations = get(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| syntax("`Operations` must be an array of operations"))?;
    if operations.is_empty() {
        return Err(syntax("`Operations` is empty"));
    }
    if operations.len() > MAX_PATCH_OPERATIONS {
        return Err(PatchError::InvalidSyntax(format!(
            "more than {MAX_PATCH_OPERATIONS} operations"
        )));
    }
    operations
        .iter()
        .enumerate()
        .map(|(index, operation)| parse_operation(operation).map_err(|error| in_operation(index, error)))
        .collect()
}

fn parse_operation(operation: &Value) -> Result<PatchOperation, PatchError> {
    let operation = operation
        .as_object()
        .ok_or_else(|| PatchError::InvalidSyntax("an operation is a JSON object".into()))?;
    let op = get(operation, "op")
        .and_then(Value::as_str)
        .and_then(PatchOp::from_name)
        .ok_or_else(|| PatchError::InvalidSyntax("`op` must be add, replace or remove".into()))?;
    let path = match get(operation, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) if path.trim().is_empty() => None,
        Some(Value::String(path)) => Some(PatchPath::parse(path)?),
        Some(_) => return Err(PatchError::InvalidPath("`path` must be a string".into())),
    };
    let value = get(operation, "value").cloned();
    match (op, &path, &value) {
        (PatchOp::Remove, None, _) => Err(PatchError::NoTarget("`remove` needs a `path`".into())),
        (PatchOp::Add | PatchOp::Replace, _, None) => {
            Err(PatchError::InvalidValue(format!("`{}` needs a `value`", op.as_str())))
        }
        (PatchOp::Add | PatchOp::Replace, None, Some(value)) if !value.is_object() => Err(PatchError::InvalidValue(
            "without a `path`, the `value` must be an object of attributes".into(),
        )),
        _ => Ok(PatchOperation { op, path, value }),
    }
}

fn in_operation(index: usize, error: PatchError) -> PatchError {
    let prefix = |detail: String| format!("Operations[{index}]: {detail}");
    match error {
        PatchError::InvalidSyntax(detail) => PatchError::InvalidSyntax(prefix(detail)),
        PatchError::InvalidPath(detail) => PatchError::InvalidPath(prefix(detail)),
        PatchError::NoTarget(detail) => PatchError::NoTarget(prefix(detail)),
        PatchError::InvalidValue(detail) => PatchError::InvalidValue(prefix(detail)),
        PatchError::Mutability(detail) => PatchError::Mutability(prefix(detail)),
    }
}

/// Applies `operations` in order to `resource` (a JSON object), as one: on an error the
/// resource is left as it was.
pub fn apply_patch(
    resource: &mut Value,
    operations: &[PatchOperation],
    schema: &ResourceSchema,
) -> Result<(), PatchError> {
    let original = resource
        .as_object()
        .ok_or_else(|| PatchError::InvalidValue("the resource is not a JSON object".into()))?;
    let mut patched = original.clone();
    let patcher = Patcher { schema };
    for (index, operation) in operations.iter().enumerate() {
        patcher
            .apply(&mut patched, operation)
            .map_err(|error| in_operation(index, error))?;
    }
    check_immutable(original, &patched, schema)?;
    *resource = Value::Object(patched);
    Ok(())
}

/// Whether the operation named the attribute itself (a `path`) or only held it in a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Path,
    InValue,
}

struct Patcher<'s> {
    schema: &'s ResourceSchema,
}

impl Patcher<'_> {
    fn apply(&self, resource: &mut Map<String, Value>, operation: &PatchOperation) -> Result<(), PatchError> {
        match &operation.path {
            Some(path) => self.apply_at(resource, operation.op, path, operation.value.clone(), Target::Path),
            None => match &operation.value {
                _ if operation.op == PatchOp::Remove => Err(PatchError::NoTarget("`remove` needs a `path`".into())),
                Some(Value::Object(members)) => self.apply_members(resource, operation.op, None, members),
                _ => Err(PatchError::InvalidValue(
                    "without a `path`, the `value` must be an object of attributes".into(),
                )),
            },
        }
    }

    /// The members of a value without path (or of an extension object, `urn` set): each key
    /// is a path of its own.
    fn apply_members(
        &self,
        resource: &mut Map<String, Value>,
        op: PatchOp,
        urn: Option<&str>,
        members: &Map<String, Value>,
    ) -> Result<(), PatchError> {
        for (key, value) in members {
            // `schemas` says what the value is, inside an extension's object too: not an attribute.
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let path = match (PatchPath::parse(key)?, urn) {
                (path, None) => path,
                (PatchPath::Attribute(attr), Some(urn)) if attr.schema().is_none() => {
                    PatchPath::Attribute(attr.with_schema(Some(urn)))
                }
                (PatchPath::ValueFilter { attr, filter, sub_attr }, Some(urn)) if attr.schema().is_none() => {
                    PatchPath::ValueFilter {
                        attr: attr.with_schema(Some(urn)),
                        filter,
                        sub_attr,
                    }
                }
                (_, Some(urn)) => {
                    return Err(PatchError::InvalidPath(format!(
                        "`{key}` inside `{urn}` names another schema"
                    )));
                }
            };
            self.apply_at(resource, op, &path, Some(value.clone()), Target::InValue)?;
        }
        Ok(())
    }

    fn apply_at(
        &self,
        resource: &mut Map<String, Value>,
        op: PatchOp,
        path: &PatchPath,
        value: Option<Value>,
        target: Target,
    ) -> Result<(), PatchError> {
        match path {
            PatchPath::Attribute(attr) => self.at_attribute(resource, op, attr, value, target),
            PatchPath::ValueFilter { attr, filter, sub_attr } => {
                self.at_value_filter(resource, op, attr, filter, sub_attr.as_deref(), value, target)
            }
            PatchPath::Extension(urn) => {
                let core = urn.eq_ignore_ascii_case(self.schema.core.urn);
                match (op, value) {
                    (PatchOp::Remove, _) if core => {
                        Err(PatchError::InvalidPath("the core schema cannot be removed".into()))
                    }
                    (PatchOp::Remove, _) => {
                        remove_key(resource, urn);
                        remove_schema_urn(resource, urn);
                        Ok(())
                    }
                    (_, Some(Value::Object(members))) => {
                        self.apply_members(resource, op, if core { None } else { Some(urn) }, &members)
                    }
                    _ => Err(PatchError::InvalidValue(format!(
                        "`{urn}` takes an object of its attributes"
                    ))),
                }
            }
        }
    }

    /// Whether the operation may touch `attr` (`sub`): read-only attributes fail when a path
    /// names them and are skipped inside a value.
    fn may_write(&self, attr: &AttrPath, sub: Option<&str>, target: Target) -> Result<bool, PatchError> {
        let spec = self.schema.attribute(attr.schema(), attr.name());
        let sub_spec = sub.and_then(|sub| spec?.sub_attribute(sub));
        let read_only = [spec, sub_spec]
            .into_iter()
            .flatten()
            .any(|spec| spec.mutability == Mutability::ReadOnly)
            || attr.is_core("schemas");
        match (read_only, target) {
            (false, _) => Ok(true),
            (true, Target::InValue) => Ok(false),
            (true, Target::Path) => Err(PatchError::Mutability(format!("`{attr}` is read-only"))),
        }
    }

    /// The object that holds `urn`'s attributes: the resource for the core schema, else the
    /// extension's object, made (and listed in `schemas`) when `create`.
    fn container<'r>(
        &self,
        resource: &'r mut Map<String, Value>,
        urn: Option<&str>,
        create: bool,
    ) -> Option<&'r mut Map<String, Value>> {
        let Some(urn) = urn else {
            return Some(resource);
        };
        let key = match find_key(resource, urn) {
            Some(key) => key,
            None if create => {
                let known = self.schema.schema(Some(urn)).map(|schema| schema.urn);
                if let Some(known) = known {
                    add_schema_urn(resource, known);
                }
                let key = known.unwrap_or(urn).to_string();
                resource.insert(key.clone(), Value::Object(Map::new()));
                key
            }
            None => return None,
        };
        let slot = resource.get_mut(&key)?;
        if !slot.is_object() {
            if !create {
                return None;
            }
            *slot = Value::Object(Map::new());
        }
        slot.as_object_mut()
    }

    fn at_attribute(
        &self,
        resource: &mut Map<String, Value>,
        op: PatchOp,
        attr: &AttrPath,
        value: Option<Value>,
        target: Target,
    ) -> Result<(), PatchError> {
        if !self.may_write(attr, attr.sub_attr(), target)? {
            return Ok(());
        }
        let spec = self.schema.attribute(attr.schema(), attr.name());
        let name = spec.map_or(attr.name(), |spec| spec.name);
        let Some(container) = self.container(resource, attr.schema(), op != PatchOp::Remove) else {
            return Ok(());
        };
        let Some(sub) = attr.sub_attr() else {
            return match op {
                PatchOp::Remove => {
                    remove_values(container, name, spec, value);
                    Ok(())
                }
                PatchOp::Add | PatchOp::Replace => {
                    let value = coerce(value.unwrap_or_default(), spec, attr)?;
                    set_attribute(container, name, spec, value, op);
                    Ok(())
                }
            };
        };
        let sub_spec = spec.and_then(|spec| spec.sub_attribute(sub));
        let sub_name = sub_spec.map_or(sub, |spec| spec.name);
        let value = match op {
            PatchOp::Remove => Value::Null,
            PatchOp::Add | PatchOp::Replace => coerce(value.unwrap_or_default(), sub_spec, attr)?,
        };
        let multi_valued = spec.map_or_else(
            || get(container, name).is_some_and(Value::is_array),
            |spec| spec.multi_valued,
        );
        if multi_valued {
            // `emails.value` without a filter: every value of the attribute.
            let mut values = take_values(container, name);
            if values.is_empty() && !value.is_null() {
                values.push(Value::Object(Map::new()));
            }
            for element in values.iter_mut().filter_map(Value::as_object_mut) {
                set_or_remove(element, sub_name, value.clone());
            }
            put_values(container, name, values);
        } else {
            let mut members = match remove_key(container, name) {
                Some(Value::Object(members)) => members,
                Some(other) if value.is_null() => {
                    // Removing a sub-attribute of something without any leaves it alone.
                    container.insert(name.to_string(), other);
                    return Ok(());
                }
                _ => Map::new(),
            };
            set_or_remove(&mut members, sub_name, value);
            if !members.is_empty() {
                container.insert(name.to_string(), Value::Object(members));
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn at_value_filter(
        &self,
        resource: &mut Map<String, Value>,
        op: PatchOp,
        attr: &AttrPath,
        filter: &Filter,
        sub: Option<&str>,
        value: Option<Value>,
        target: Target,
    ) -> Result<(), PatchError> {
        if !self.may_write(attr, sub, target)? {
            return Ok(());
        }
        let spec = self.schema.attribute(attr.schema(), attr.name());
        if spec.is_some_and(|spec| !spec.multi_valued) {
            return Err(PatchError::InvalidPath(format!(
                "`{attr}` has one value; a value filter needs a multi-valued attribute"
            )));
        }
        let name = spec.map_or(attr.name(), |spec| spec.name);
        let sub_spec = sub.and_then(|sub| spec?.sub_attribute(sub));
        let sub_name = sub.map(|sub| sub_spec.map_or(sub, |spec| spec.name));
        let value = match (op, sub) {
            (PatchOp::Remove, _) => Value::Null,
            (_, Some(_)) => coerce(value.unwrap_or_default(), sub_spec, attr)?,
            (_, None) => {
                let element = value.unwrap_or_default();
                let element = match spec {
                    Some(spec) => coerce_one(element, spec, attr)?,
                    None => element,
                };
                if !element.is_object() {
                    return Err(PatchError::InvalidValue(format!(
                        "`{attr}[…]` takes an object of sub-attributes"
                    )));
                }
                element
            }
        };
        let Some(container) = self.container(resource, attr.schema(), op != PatchOp::Remove) else {
            return Ok(());
        };
        let mut values = take_values(container, name);
        let matching: Vec<usize> = (0..values.len())
            .filter(|&i| matches_value(filter, &values[i], attr, self.schema))
            .collect();
        match (op, sub_name) {
            (PatchOp::Remove, Some(sub_name)) => {
                for &i in &matching {
                    if let Some(element) = values[i].as_object_mut() {
                        remove_key(element, sub_name);
                    }
                }
            }
            (PatchOp::Remove, None) => {
                for &i in matching.iter().rev() {
                    values.remove(i);
                }
            }
            (_, sub_name) if matching.is_empty() => {
                let mut element = element_from_filter(filter, spec)
                    .ok_or_else(|| PatchError::NoTarget(format!("no value of `{attr}` matches `{filter}`")))?;
                match (sub_name, value) {
                    (Some(sub_name), value) => set_or_remove(&mut element, sub_name, value),
                    (None, Value::Object(members)) => merge(&mut element, members, spec),
                    (None, _) => {}
                }
                values.push(Value::Object(element));
            }
            (op, sub_name) => {
                for &i in &matching {
                    match (sub_name, &value) {
                        (Some(sub_name), value) => {
                            if let Some(element) = values[i].as_object_mut() {
                                set_or_remove(element, sub_name, value.clone());
                            }
                        }
                        (None, value) if op == PatchOp::Replace => values[i] = value.clone(),
                        (None, Value::Object(members)) => {
                            if let Some(element) = values[i].as_object_mut() {
                                merge(element, members.clone(), spec);
                            }
                        }
                        (None, _) => {}
                    }
                }
            }
        }
        put_values(container, name, values);
        Ok(())
    }
}

/// Sets a whole attribute: a multi-valued one gains the values (`add`) or becomes them
/// (`replace`); a complex one takes the sub-attributes given and keeps the others (RFC 7644
/// §3.5.2.1 and §3.5.2.3 both say so); anything else is set. `null` unassigns.
fn set_attribute(container: &mut Map<String, Value>, name: &str, spec: Option<&Attribute>, value: Value, op: PatchOp) {
    if value.is_null() {
        remove_key(container, name);
        return;
    }
    let existing = find_key(container, name).and_then(|key| container.get(&key));
    let multi_valued = spec.map_or_else(|| value.is_array(), |spec| spec.multi_valued);
    let complex = spec.map_or_else(
        || value.is_object() && existing.is_some_and(Value::is_object),
        |spec| spec.kind == AttributeType::Complex && !spec.multi_valued,
    );
    if multi_valued {
        let Value::Array(new_values) = value else {
            set_key(container, name, value);
            return;
        };
        let mut values = match op {
            PatchOp::Add => take_values(container, name),
            PatchOp::Replace | PatchOp::Remove => Vec::new(),
        };
        for new_value in new_values {
            if !values.contains(&new_value) {
                values.push(new_value);
            }
        }
        remove_key(container, name);
        put_values(container, name, values);
    } else if complex {
        let mut members = match remove_key(container, name) {
            Some(Value::Object(members)) => members,
            _ => Map::new(),
        };
        if let Value::Object(new_members) = value {
            merge(&mut members, new_members, spec);
        }
        if !members.is_empty() {
            container.insert(name.to_string(), Value::Object(members));
        }
    } else {
        set_key(container, name, value);
    }
}

/// `remove` of a whole attribute; with a `value` on a multi-valued one (Entra ID's legacy form
/// `{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}`) only those values.
fn remove_values(container: &mut Map<String, Value>, name: &str, spec: Option<&Attribute>, listed: Option<Value>) {
    let multi_valued = spec.map_or_else(
        || get(container, name).is_some_and(Value::is_array),
        |spec| spec.multi_valued,
    );
    let listed = match listed {
        Some(Value::Array(listed)) if multi_valued => listed,
        Some(listed @ Value::Object(_)) if multi_valued => vec![listed],
        _ => {
            remove_key(container, name);
            return;
        }
    };
    let mut values = take_values(container, name);
    values.retain(|value| !listed.iter().any(|gone| same_value(value, gone)));
    put_values(container, name, values);
}

fn same_value(value: &Value, listed: &Value) -> bool {
    match (value, listed) {
        (Value::Object(value), Value::Object(listed)) => match (get(value, "value"), get(listed, "value")) {
            (Some(a), Some(b)) => a == b,
            _ => value == listed,
        },
        _ => value == listed,
    }
}

/// The value a filter describes, so that `add`/`replace` on `emails[type eq "work"].value`
/// can make the work address when there is none: only `eq` comparisons joined by `and`
/// describe one.
fn element_from_filter(filter: &Filter, spec: Option<&Attribute>) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.schema().is_none() && path.sub_attr().is_none() && *value != CompValue::Null => {
            let name = spec
                .and_then(|spec| spec.sub_attribute(path.name()))
                .map_or(path.name(), |sub| sub.name);
            let mut element = Map::new();
            element.insert(name.to_string(), value.to_json());
            Some(element)
        }
        Filter::And(left, right) => {
            let mut element = element_from_filter(left, spec)?;
            element.extend(element_from_filter(right, spec)?);
            Some(element)
        }
        _ => None,
    }
}

/// Brings a value to the attribute's type: booleans from `"true"`/`"false"` in any case, a
/// single value of a multi-valued attribute into a list; refuses what does not fit.
fn coerce(value: Value, spec: Option<&Attribute>, what: &AttrPath) -> Result<Value, PatchError> {
    let Some(spec) = spec else {
        return Ok(value);
    };
    match value {
        Value::Null => Ok(Value::Null),
        Value::Array(values) if spec.multi_valued => values
            .into_iter()
            .map(|value| coerce_one(value, spec, what))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        value if spec.multi_valued => Ok(Value::Array(vec![coerce_one(value, spec, what)?])),
        value => coerce_one(value, spec, what),
    }
}

fn coerce_one(value: Value, spec: &Attribute, what: &AttrPath) -> Result<Value, PatchError> {
    let wrong = |expected: &str| PatchError::InvalidValue(format!("`{what}` takes {expected}"));
    match (spec.kind, value) {
        (_, Value::Null) => Ok(Value::Null),
        (AttributeType::Boolean, Value::Bool(b)) => Ok(Value::Bool(b)),
        (AttributeType::Boolean, Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        (AttributeType::Boolean, Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        (AttributeType::Boolean, _) => Err(wrong("a boolean")),
        (AttributeType::Complex, Value::Object(members)) => members
            .into_iter()
            .map(|(key, value)| match spec.sub_attribute(&key) {
                Some(sub) => coerce(value, Some(sub), what).map(|value| (sub.name.to_string(), value)),
                None => Ok((key, value)),
            })
            .collect::<Result<Map<_, _>, _>>()
            .map(Value::Object),
        (AttributeType::Complex, _) => Err(wrong("an object of sub-attributes")),
        (AttributeType::String | AttributeType::DateTime | AttributeType::Reference, Value::String(s)) => {
            Ok(Value::String(s))
        }
        (AttributeType::String | AttributeType::DateTime | AttributeType::Reference, _) => Err(wrong("a string")),
        (AttributeType::Integer | AttributeType::Decimal, Value::Number(n)) => Ok(Value::Number(n)),
        (AttributeType::Integer | AttributeType::Decimal, _) => Err(wrong("a number")),
    }
}

/// An immutable attribute that had a value keeps it (compared as the schema compares it).
fn check_immutable(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    schema: &ResourceSchema,
) -> Result<(), PatchError> {
    let schemas = std::iter::once((None, &schema.core)).chain(schema.extensions.iter().map(|s| (Some(s.urn), s)));
    for (urn, definition) in schemas {
        for attribute in definition.attributes {
            if attribute.mutability != Mutability::Immutable || attribute.multi_valued {
                continue;
            }
            let lookup = |resource: &Map<String, Value>| {
                let container = match urn {
                    None => Some(resource),
                    Some(urn) => get(resource, urn).and_then(Value::as_object),
                };
                container.and_then(|container| get(container, attribute.name)).cloned()
            };
            let (Some(old), new) = (lookup(before).filter(|v| !v.is_null()), lookup(after)) else {
                continue;
            };
            let unchanged = match (&old, &new) {
                (Value::String(old), Some(Value::String(new))) if !attribute.case_exact => {
                    old.to_lowercase() == new.to_lowercase()
                }
                (old, Some(new)) => old == new,
                (_, None) => false,
            };
            if !unchanged {
                return Err(PatchError::Mutability(format!(
                    "`{}` cannot change once set",
                    attribute.name
                )));
            }
        }
    }
    Ok(())
}

fn merge(target: &mut Map<String, Value>, members: Map<String, Value>, spec: Option<&Attribute>) {
    for (key, value) in members {
        let name = spec
            .and_then(|spec| spec.sub_attribute(&key))
            .map_or(key.as_str(), |sub| sub.name)
            .to_string();
        set_or_remove(target, &name, value);
    }
}

fn set_or_remove(object: &mut Map<String, Value>, name: &str, value: Value) {
    if value.is_null() {
        remove_key(object, name);
    } else {
        set_key(object, name, value);
    }
}

/// The key of `object` that is `name` in any case.
fn find_key(object: &Map<String, Value>, name: &str) -> Option<String> {
    if object.contains_key(name) {
        return Some(name.to_string());
    }
    object.keys().find(|key| key.eq_ignore_ascii_case(name)).cloned()
}

/// Removes `name` in every case it appears in; returns one of the values.
fn remove_key(object: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let keys: Vec<String> = object
        .keys()
        .filter(|key| key.eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    keys.into_iter().filter_map(|key| object.remove(&key)).last()
}

/// Sets `name` (as the schema spells it), replacing it in whatever case it had.
fn set_key(object: &mut Map<String, Value>, name: &str, value: Value) {
    remove_key(object, name);
    object.insert(name.to_string(), value);
}

/// Takes a multi-valued attribute's values out (a lone value counts as a list of one).
fn take_values(container: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    match remove_key(container, name) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values,
        Some(value) => vec![value],
    }
}

/// Puts values back, dropping values left empty; no values is no attribute (RFC 7644
/// §3.5.2.2: "considered to be unassigned").
fn put_values(container: &mut Map<String, Value>, name: &str, mut values: Vec<Value>) {
    values.retain(|value| !matches!(value, Value::Object(members) if members.is_empty()));
    if !values.is_empty() {
        set_key(container, name, Value::Array(values));
    }
}

fn add_schema_urn(resource: &mut Map<String, Value>, urn: &str) {
    let Some(key) = find_key(resource, "schemas") else {
        return;
    };
    if let Some(Value::Array(schemas)) = resource.get_mut(&key)
        && !schemas
            .iter()
            .any(|listed| listed.as_str().is_some_and(|listed| listed.eq_ignore_ascii_case(urn)))
    {
        schemas.push(Value::String(urn.to_string()));
    }
}

fn remove_schema_urn(resource: &mut Map<String, Value>, urn: &str) {
    let Some(key) = find_key(resource, "schemas") else {
        return;
    };
    if let Some(Value::Array(schemas)) = resource.get_mut(&key) {
        schemas.retain(|listed| !listed.as_str().is_some_and(|listed| listed.eq_ignore_ascii_case(urn)));
    }
}

#[cfg(test)]
mod tests;
