//! The error answers of the OpenAPI document, stated once for every operation.
//!
//! Every failure is an `application/problem+json` body (`error.rs`), and which
//! failures an operation can meet follows from what it takes: a caller
//! (401, 403), a path id (404), a JSON body (400, 413, 415, 422), query
//! parameters (400, 422). [`document`] adds these to each operation of the
//! finished document, so no handler repeats the list; a handler only names the
//! answers of its own rules (409, 429, ...), with a description. A 409 problem
//! always carries a stable `code` (see `Problem`), never a database rule's name.

use utoipa::openapi::{
    Content, HeaderBuilder, OpenApi, Ref, RefOr, Response, Schema,
    path::{Operation, ParameterIn},
    schema::{ObjectBuilder, Type},
};

const PROBLEM: &str = "application/problem+json";

/// Adds the problem answers every operation can give, and makes each error
/// answer of the document a `Problem` in `application/problem+json`.
pub fn document(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            add_problems(path, op);
        }
    }
}

fn add_problems(path: &str, op: &mut Operation) {
    let caller = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let body = op.request_body.is_some();
    let query =
        op.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    let expected: [(bool, &str, &str); 9] = [
        (body || query, "400", "The body is not JSON, or a query parameter has the wrong type or is unknown"),
        (caller, "401", "Not signed in, or the API token is malformed, unknown, revoked or expired"),
        (
            caller,
            "403",
            "Not allowed: the caller's role or token scopes, a missing CSRF header (cookie sessions), or a \
             password change or two-step enrolment that must come first",
        ),
        (path.contains('{'), "404", "Nothing with this id (or a malformed id)"),
        (body, "413", "The body is larger than 64 KiB"),
        (body, "415", "The body is not sent as `application/json`"),
        (body || query, "422", "Invalid input: `errors` names each field with a code and a message"),
        (true, "500", "An internal error (logged on the server, never detailed here)"),
        (
            true,
            "503",
            "The database cannot take this now (full disk, read-only, connection lost): retry after `Retry-After` \
             seconds",
        ),
    ];
    for (applies, status, description) in expected {
        if applies {
            op.responses.responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(Response::new(description)));
        }
    }
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        if !status.starts_with(['4', '5']) || !is_problem(response) {
            continue;
        }
        response.content.clear();
        response.content.insert(PROBLEM.to_owned(), RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))));
        if response.description.is_empty() {
            response.description = default_description(status).to_owned();
        }
        if status == "401" {
            response.headers.insert(
                "WWW-Authenticate".to_owned(),
                RefOr::T(
                    HeaderBuilder::new()
                        .schema(Some(Schema::Object(ObjectBuilder::new().schema_type(Type::String).build())))
                        .description(Some("`Bearer realm=\"usher\"`, with `error=\"invalid_token\"` for a bad token"))
                        .build(),
                ),
            );
        }
    }
}

/// An error answer with no body declared, or a `Problem` body.
fn is_problem(response: &Response) -> bool {
    response.content.values().all(|c| match c {
        RefOr::T(c) => matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location == "#/components/schemas/Problem"),
        RefOr::Ref(_) => false,
    })
}

fn default_description(status: &str) -> &'static str {
    match status {
        "400" => "A malformed request",
        "401" => "Authentication failed or is required",
        "403" => "Not allowed",
        "404" => "Not found",
        "409" => "A conflict with the current state; `code` says which",
        "413" => "The body is too large",
        "415" => "Unsupported media type",
        "422" => "Invalid input",
        "429" => "Too many attempts: wait `Retry-After` seconds",
        "503" => "Unavailable for now: retry after `Retry-After` seconds",
        _ => "An error",
    }
}
