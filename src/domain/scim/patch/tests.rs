use serde_json::json;

use super::*;
use crate::domain::scim::schema::{CORE_USER_URN, MIJNKWH_USER_URN, Schema};

const MULTI_VALUE_SUB_ATTRIBUTES: &[Attribute] = &[
    Attribute::string("value"),
    Attribute::string("display"),
    Attribute::string("type"),
    Attribute::boolean("primary"),
];

/// RFC 7643's User as most services have it: `emails` writable, multi-valued and complex,
/// which is what the value-filter paths of Entra's requests need. (Our own schema makes
/// `emails` read-only, as it mirrors the userName; the engine is tested on the general case.)
static USER: ResourceSchema = ResourceSchema {
    core: Schema {
        urn: CORE_USER_URN,
        attributes: &[
            Attribute::string("id").case_exact().mutability(Mutability::ReadOnly),
            Attribute::string("externalId").case_exact(),
            Attribute::string("userName").mutability(Mutability::Immutable),
            Attribute::complex(
                "name",
                &[
                    Attribute::string("formatted"),
                    Attribute::string("familyName"),
                    Attribute::string("givenName"),
                    Attribute::string("middleName"),
                ],
            ),
            Attribute::string("title"),
            Attribute::boolean("active"),
            Attribute::complex("emails", MULTI_VALUE_SUB_ATTRIBUTES).multi_valued(),
            Attribute::complex("phoneNumbers", MULTI_VALUE_SUB_ATTRIBUTES).multi_valued(),
            Attribute::complex("meta", &[Attribute::string("version").case_exact()]).mutability(Mutability::ReadOnly),
        ],
    },
    extensions: &[Schema {
        urn: MIJNKWH_USER_URN,
        attributes: &[
            Attribute::string("role"),
            Attribute::string("access").multi_valued(),
            Attribute::string("emailNotifications").multi_valued(),
            Attribute::boolean("excelDownload"),
        ],
    }],
};

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "0190c2a4-7b1e-7cc0-8000-000000000001",
        "externalId": "58342554-38d6-4ec8-948c-50044d0a33fd",
        "userName": "henk.devries@woonstad.nl",
        "name": { "givenName": "Henk", "familyName": "de Vries" },
        "title": "Medewerker Verhuur",
        "active": true,
        "emails": [{ "value": "henk.devries@woonstad.nl", "type": "work", "primary": true }],
        "meta": { "resourceType": "User", "version": "W/\"3\"" }
    })
}

fn patched(body: Value) -> Result<Value, PatchError> {
    patched_from(user(), body)
}

fn patched_from(mut resource: Value, body: Value) -> Result<Value, PatchError> {
    let operations = parse_patch_request(&body)?;
    apply_patch(&mut resource, &operations, &USER)?;
    Ok(resource)
}

fn request(operations: Value) -> Value {
    json!({ "schemas": [PATCH_OP_URN], "Operations": operations })
}

fn scim_type(result: Result<Value, PatchError>) -> &'static str {
    result.unwrap_err().scim_type().as_str()
}

// Requests exactly as Microsoft documents them: "Known issues and resolutions with SCIM 2.0
// protocol compliance of the Microsoft Entra user provisioning service" (without and with the
// aadOptscim062020 flag) and "Tutorial: Develop and plan provisioning for a SCIM endpoint".

#[test]
fn entra_disables_a_user_with_a_capitalised_op_and_the_string_false() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Replace", "path": "active", "value": "False" }]
    });
    assert_eq!(patched(body).unwrap()["active"], json!(false));
}

#[test]
fn entra_disables_a_user_the_compliant_way() {
    let body = json!({
        "Operations": [{ "op": "Replace", "path": "active", "value": false }],
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
    });
    assert_eq!(patched(body).unwrap()["active"], json!(false));
}

#[test]
fn entras_periodic_active_true_changes_nothing() {
    for value in [json!(true), json!("True"), json!("true")] {
        let body = request(json!([{ "op": "Replace", "path": "active", "value": value }]));
        assert_eq!(patched(body).unwrap(), user());
    }
}

#[test]
fn entra_adds_a_single_value_attribute_with_and_without_path() {
    let legacy = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Add", "path": "nickName", "value": "Babs" }]
    });
    let compliant = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "add", "value": { "nickName": "Babs" } }]
    });
    // An attribute the schema does not know goes under its normalised (lower-case) name.
    assert_eq!(patched(legacy).unwrap()["nickname"], json!("Babs"));
    assert_eq!(patched(compliant).unwrap()["nickname"], json!("Babs"));
}

#[test]
fn entra_replaces_several_attributes_one_operation_each() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            { "op": "Replace", "path": "displayName", "value": "Pvlo" },
            { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com" },
            { "op": "Replace", "path": "name.givenName", "value": "Gtfd" },
            { "op": "Replace", "path": "name.familyName", "value": "Pkqf" },
            { "op": "Replace", "path": "externalId", "value": "Eqpj" },
            { "op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Eqpj" }
        ]
    });
    let user = patched(body).unwrap();
    assert_eq!(user["name"], json!({ "givenName": "Gtfd", "familyName": "Pkqf" }));
    assert_eq!(user["externalId"], json!("Eqpj"));
    assert_eq!(
        user["emails"],
        json!([{ "value": "TestBcwqnm@test.microsoft.com", "type": "work", "primary": true }])
    );
    assert_eq!(
        user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"]["employeenumber"],
        json!("Eqpj"),
        "an extension this schema does not know is kept, under its normalised name"
    );
}

#[test]
fn entra_replaces_several_attributes_in_one_value_with_dotted_and_urn_keys() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com" },
            { "op": "replace", "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
            } }
        ]
    });
    let user = patched(body).unwrap();
    assert_eq!(user["name"], json!({ "givenName": "Kkom", "familyName": "Unua" }));
    assert_eq!(user["displayname"], json!("Bjfe"));
    assert_eq!(user["emails"][0]["value"], json!("TestMhvaes@test.microsoft.com"));
}

#[test]
fn entra_updates_the_work_email_and_family_name() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com" },
            { "op": "Replace", "path": "name.familyName", "value": "updatedFamilyName" }
        ]
    });
    let user = patched(body).unwrap();
    assert_eq!(user["emails"][0]["value"], json!("updatedEmail@microsoft.com"));
    assert_eq!(user["name"]["familyName"], json!("updatedFamilyName"));
    assert_eq!(user["name"]["givenName"], json!("Henk"));
}

#[test]
fn entra_adds_a_work_phone_number_where_there_was_none() {
    let body = request(json!([
        { "op": "Add", "path": "phoneNumbers[type eq \"work\"].value", "value": "010-1234567" }
    ]));
    let user = patched(body).unwrap();
    assert_eq!(
        user["phoneNumbers"],
        json!([{ "type": "work", "value": "010-1234567" }])
    );
    let again = request(json!([
        { "op": "Replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "010-7654321" }
    ]));
    let user = patched_from(user, again).unwrap();
    assert_eq!(
        user["phoneNumbers"],
        json!([{ "type": "work", "value": "010-7654321" }])
    );
}

#[test]
fn a_user_name_keeps_its_value_as_the_email_never_changes() {
    let body = |value: &str| request(json!([{ "op": "Replace", "path": "userName", "value": value }]));
    // Entra's "Update User [Single-valued properties]" example.
    assert_eq!(
        scim_type(patched(body("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"))),
        "mutability"
    );
    assert_eq!(
        patched(body("Henk.deVries@Woonstad.nl")).unwrap()["userName"],
        json!("Henk.deVries@Woonstad.nl")
    );
    let no_path = request(json!([{ "op": "replace", "value": { "userName": "other@woonstad.nl" } }]));
    assert_eq!(scim_type(patched(no_path)), "mutability");
    let removal = request(json!([{ "op": "remove", "path": "userName" }]));
    assert_eq!(scim_type(patched(removal)), "mutability");
    let mut new_user = user();
    new_user.as_object_mut().unwrap().remove("userName");
    let first = request(json!([{ "op": "add", "path": "userName", "value": "new@woonstad.nl" }]));
    assert_eq!(
        patched_from(new_user, first).unwrap()["userName"],
        json!("new@woonstad.nl")
    );
}

#[test]
fn entra_sets_the_manager_through_the_enterprise_extension() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Add",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": [{ "$ref": null, "value": "2819c223-7f76-453a-919d-ab1234567891" }]
        }]
    });
    assert!(patched(body).is_ok());
}

#[test]
fn entras_legacy_member_removal_with_a_value_removes_only_those() {
    let group = json!({ "displayName": "G", "members": [{ "value": "u1091" }, { "value": "u2" }] });
    let legacy = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Remove", "path": "members", "value": [{ "value": "u1091" }] }]
    });
    assert_eq!(
        patched_from(group.clone(), legacy).unwrap()["members"],
        json!([{ "value": "u2" }])
    );
    let compliant = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "remove", "path": "members[value eq \"u2\"]" }]
    });
    assert_eq!(
        patched_from(group, compliant).unwrap()["members"],
        json!([{ "value": "u1091" }])
    );
}

// Requests exactly as Okta's "SCIM 2.0 Protocol Reference" shows them.

#[test]
fn okta_deactivates_with_a_value_without_path() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "replace", "value": { "active": false } }]
    });
    assert_eq!(patched(body).unwrap()["active"], json!(false));
}

#[test]
fn okta_sends_the_id_along_which_is_ignored_as_in_a_put() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "replace", "value": {
            "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
            "title": "Test SCIMv2"
        } }]
    });
    let user = patched(body).unwrap();
    assert_eq!(user["id"], json!("0190c2a4-7b1e-7cc0-8000-000000000001"));
    assert_eq!(user["title"], json!("Test SCIMv2"));
}

#[test]
fn okta_changes_group_members_with_a_filtered_remove_and_an_add() {
    let group = json!({ "members": [{ "value": "89bb1940-b905-4575-9e7f-6f887cfb368e" }] });
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            { "op": "remove", "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]" },
            { "op": "add", "path": "members", "value": [{
                "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
                "display": "test.user@okta.local"
            }] }
        ]
    });
    assert_eq!(
        patched_from(group, body).unwrap()["members"],
        json!([{ "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local" }])
    );
}

// Our extension.

#[test]
fn extension_attributes_by_urn_prefixed_path_and_by_extension_object() {
    let urn = MIJNKWH_USER_URN;
    let body = request(json!([
        { "op": "replace", "path": format!("{urn}:role"), "value": "main_user" },
        { "op": "add", "value": { urn: { "excelDownload": "True", "access": "klantvizier" } } },
        { "op": "add", "path": format!("{}:EMAILNOTIFICATIONS", urn.to_uppercase()), "value": ["delivery_reminder"] }
    ]));
    let user = patched(body).unwrap();
    assert_eq!(
        user[urn],
        json!({
            "role": "main_user",
            "excelDownload": true,
            "access": ["klantvizier"],
            "emailNotifications": ["delivery_reminder"]
        })
    );
    assert_eq!(
        user["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", urn])
    );
    let removal = request(json!([{ "op": "remove", "path": urn }]));
    let user = patched_from(user, removal).unwrap();
    assert!(user.get(urn).is_none());
    assert_eq!(user["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));
}

#[test]
fn a_whole_extension_can_be_a_path() {
    let body = request(json!([{ "op": "replace", "path": MIJNKWH_USER_URN, "value": { "role": "user" } }]));
    assert_eq!(patched(body).unwrap()[MIJNKWH_USER_URN], json!({ "role": "user" }));
    let core = request(json!([{
        "op": "replace",
        "path": "urn:ietf:params:scim:schemas:core:2.0:User",
        "value": { "title": "Directeur" }
    }]));
    assert_eq!(patched(core).unwrap()["title"], json!("Directeur"));
}

// The RFC's semantics.

#[test]
fn names_and_op_names_are_case_insensitive() {
    let body = request(json!([
        { "op": "REPLACE", "path": "Title", "value": "Directeur" },
        { "op": "rePlace", "value": { "ACTIVE": "false", "NAME": { "GIVENNAME": "Jan" } } }
    ]));
    let user = patched(body).unwrap();
    assert_eq!(user["title"], json!("Directeur"));
    assert!(user.get("Title").is_none(), "one attribute, not two spellings of it");
    assert_eq!(user["active"], json!(false));
    assert_eq!(user["name"], json!({ "givenName": "Jan", "familyName": "de Vries" }));
}

#[test]
fn add_appends_to_a_multi_valued_attribute_and_replace_sets_it() {
    let home = json!({ "value": "henk@thuis.nl", "type": "home", "primary": "False" });
    let added = patched(request(
        json!([{ "op": "add", "path": "emails", "value": [home.clone(), home] }]),
    ))
    .unwrap();
    assert_eq!(
        added["emails"].as_array().unwrap().len(),
        2,
        "a value already there is not added twice"
    );
    assert_eq!(
        added["emails"][1]["primary"],
        json!(false),
        "booleans inside values are coerced too"
    );
    let replaced = patched(request(
        json!([{ "op": "replace", "path": "emails", "value": { "value": "a@b.nl" } }]),
    ))
    .unwrap();
    assert_eq!(
        replaced["emails"],
        json!([{ "value": "a@b.nl" }]),
        "a lone value is a list of one"
    );
}

#[test]
fn replacing_a_complex_attribute_keeps_the_sub_attributes_not_given() {
    let user = patched(request(
        json!([{ "op": "replace", "path": "name", "value": { "familyName": "Jansen" } }]),
    ))
    .unwrap();
    assert_eq!(user["name"], json!({ "givenName": "Henk", "familyName": "Jansen" }));
}

#[test]
fn remove_with_and_without_a_filter() {
    let mut user = user();
    user["phoneNumbers"] = json!([{ "value": "010", "type": "work" }, { "value": "06", "type": "mobile" }]);
    let remove = |path: &str| request(json!([{ "op": "remove", "path": path }]));
    let result = patched_from(user.clone(), remove("phoneNumbers[type eq \"mobile\"]")).unwrap();
    assert_eq!(result["phoneNumbers"], json!([{ "value": "010", "type": "work" }]));
    let result = patched_from(user.clone(), remove("phoneNumbers[type eq \"work\"].value")).unwrap();
    assert_eq!(
        result["phoneNumbers"],
        json!([{ "type": "work" }, { "value": "06", "type": "mobile" }])
    );
    let result = patched_from(user.clone(), remove("phoneNumbers[type eq \"fax\"]")).unwrap();
    assert_eq!(result, user, "a filter that matches nothing removes nothing");
    let result = patched_from(
        user.clone(),
        remove("phoneNumbers[type eq \"work\" or type eq \"mobile\"]"),
    )
    .unwrap();
    assert!(result.get("phoneNumbers").is_none(), "no values left is no attribute");
    let result = patched_from(user.clone(), remove("title")).unwrap();
    assert!(result.get("title").is_none());
    let result = patched_from(user.clone(), remove("name.givenName")).unwrap();
    assert_eq!(result["name"], json!({ "familyName": "de Vries" }));
    let result = patched_from(result, remove("name.familyName")).unwrap();
    assert!(result.get("name").is_none());
    assert_eq!(patched_from(user.clone(), remove("nickName")).unwrap(), user);
}

#[test]
fn replace_with_null_unassigns() {
    let user = patched(request(json!([{ "op": "replace", "path": "title", "value": null }]))).unwrap();
    assert!(user.get("title").is_none());
}

#[test]
fn a_value_filter_replaces_matching_values_whole_and_add_merges_into_them() {
    let replaced = patched(request(json!([{
        "op": "replace",
        "path": "emails[type eq \"work\"]",
        "value": { "value": "nieuw@woonstad.nl", "type": "work" }
    }])))
    .unwrap();
    assert_eq!(
        replaced["emails"],
        json!([{ "value": "nieuw@woonstad.nl", "type": "work" }])
    );
    let merged = patched(request(json!([{
        "op": "add",
        "path": "emails[type eq \"work\"]",
        "value": { "display": "Henk" }
    }])))
    .unwrap();
    assert_eq!(merged["emails"][0]["display"], json!("Henk"));
    assert_eq!(merged["emails"][0]["primary"], json!(true));
}

#[test]
fn a_filter_that_matches_nothing_and_describes_no_value_has_no_target() {
    let body = request(json!([{
        "op": "replace",
        "path": "emails[type eq \"home\" or type eq \"other\"].value",
        "value": "x@y.nl"
    }]));
    assert_eq!(scim_type(patched(body)), "noTarget");
}

#[test]
fn read_only_attributes_cannot_be_targeted() {
    for path in ["id", "meta", "meta.lastModified", "schemas", "ID"] {
        for op in ["add", "replace", "remove"] {
            let body = request(json!([{ "op": op, "path": path, "value": "x" }]));
            assert_eq!(scim_type(patched(body)), "mutability", "{op} {path}");
        }
    }
    let in_value = request(json!([{ "op": "replace", "value": { "meta": { "version": "W/\"9\"" }, "schemas": [] } }]));
    assert_eq!(patched(in_value).unwrap(), user());
}

#[test]
fn a_failing_operation_leaves_the_resource_as_it_was() {
    let mut resource = user();
    let operations = parse_patch_request(&request(json!([
        { "op": "replace", "path": "title", "value": "Directeur" },
        { "op": "replace", "path": "active", "value": "maybe" }
    ])))
    .unwrap();
    let error = apply_patch(&mut resource, &operations, &USER).unwrap_err();
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
    assert!(error.detail().starts_with("Operations[1]"), "{error}");
    assert_eq!(resource, user());
}

#[test]
fn values_that_do_not_fit_the_attribute_are_invalid() {
    for (path, value) in [
        ("active", json!("yes")),
        ("active", json!(1)),
        ("title", json!({ "x": 1 })),
        ("title", json!(true)),
        ("name", json!("Henk")),
        ("emails", json!(["a@b.nl"])),
        ("emails[type eq \"work\"]", json!("a@b.nl")),
        ("emails[type eq \"work\"].primary", json!("ja")),
    ] {
        let body = request(json!([{ "op": "replace", "path": path, "value": value }]));
        assert_eq!(scim_type(patched(body)), "invalidValue", "{path}");
    }
}

#[test]
fn malformed_requests_are_refused_with_the_rfcs_scim_type() {
    let cases = [
        (json!([]), "invalidSyntax"),
        (json!({ "Operations": [{ "op": "add", "value": {} }] }), "invalidSyntax"),
        (
            json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "Operations": [] }),
            "invalidSyntax",
        ),
        (json!({ "schemas": [PATCH_OP_URN] }), "invalidSyntax"),
        (request(json!([])), "invalidSyntax"),
        (request(json!({ "op": "add" })), "invalidSyntax"),
        (request(json!(["add"])), "invalidSyntax"),
        (
            request(json!([{ "op": "move", "path": "title", "value": "x" }])),
            "invalidSyntax",
        ),
        (request(json!([{ "path": "title", "value": "x" }])), "invalidSyntax"),
        (request(json!([{ "op": "remove" }])), "noTarget"),
        (request(json!([{ "op": "add", "path": "title" }])), "invalidValue"),
        (request(json!([{ "op": "replace", "value": "x" }])), "invalidValue"),
        (
            request(json!([{ "op": "add", "path": "ti tle", "value": "x" }])),
            "invalidPath",
        ),
        (
            request(json!([{ "op": "add", "path": "emails[type eq]", "value": "x" }])),
            "invalidPath",
        ),
        (
            request(json!([{ "op": "add", "path": 3, "value": "x" }])),
            "invalidPath",
        ),
        (
            request(json!([{ "op": "add", "value": { "na me": "x" } }])),
            "invalidPath",
        ),
        (
            request(json!([{ "op": "add", "path": "title[value eq \"x\"]", "value": "x" }])),
            "invalidPath",
        ),
        (
            request(json!([{ "op": "add", "path": MIJNKWH_USER_URN, "value": { "urn:x:1.0:User:role": "x" } }])),
            "invalidPath",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(scim_type(patched(body.clone())), expected, "{body}");
    }
    let too_many: Vec<Value> = (0..=MAX_PATCH_OPERATIONS)
        .map(|_| json!({ "op": "add", "path": "title", "value": "x" }))
        .collect();
    assert_eq!(scim_type(patched(request(json!(too_many)))), "invalidSyntax");
}

#[test]
fn the_request_members_and_schema_urn_are_case_insensitive() {
    let body = json!({
        "SCHEMAS": ["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:PATCHOP"],
        "operations": [{ "OP": "add", "PATH": "title", "VALUE": "x" }]
    });
    assert_eq!(patched(body).unwrap()["title"], json!("x"));
}

#[test]
fn paths_parse_into_their_three_shapes() {
    assert_eq!(
        PatchPath::parse("name.givenName").unwrap(),
        PatchPath::Attribute(AttrPath::core("name", Some("givenname")))
    );
    let PatchPath::ValueFilter { attr, filter, sub_attr } =
        PatchPath::parse(r#"emails[type eq "work"].value"#).unwrap()
    else {
        panic!()
    };
    assert!(attr.is_core("emails"));
    assert_eq!(filter.to_string(), r#"type eq "work""#);
    assert_eq!(sub_attr.as_deref(), Some("value"));
    assert_eq!(
        PatchPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").unwrap(),
        PatchPath::Extension("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user".into())
    );
}
