//! One error type at the edge: every failure becomes an RFC 9457
//! `application/problem+json` response. Internal causes are logged, never sent.

use axum::{
    extract::rejection::{JsonRejection, QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use usher_api_types::{Problem, ProblemField};
use usher_core::{Chain, Error};

/// How long clients are told to wait (`Retry-After`) when the database cannot
/// take requests: long enough not to hammer it, short enough to notice recovery.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// The stable code of a conflict (`Conflict::code`), sent as `code`.
    pub code: Option<&'static str>,
    pub errors: Vec<ProblemField>,
    /// Seconds to wait before trying again (`Retry-After`), for refusals that pass.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, kind, title, detail: detail.into(), code: None, errors: Vec::new(), retry_after: None }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", "There is nothing at this address.")
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            "Sign in, or send an API token in the Authorization header.",
        )
    }

    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid-token",
            "Invalid API token",
            "The bearer token is malformed, unknown, revoked or expired, or its owner cannot sign in.",
        )
    }

    /// The database cannot take requests for now (disk full, read-only, busy,
    /// connection lost): clients should retry after a pause, nothing is wrong
    /// with their request.
    pub fn unavailable() -> Self {
        let mut err = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            "The database cannot take this request right now. Try again in a few seconds.",
        );
        err.retry_after = Some(UNAVAILABLE_RETRY_AFTER_SECS);
        err
    }

    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "Missing or wrong CSRF token",
            "Changes made with a session cookie must carry the X-CSRF-Token header returned at sign-in.",
        )
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(invalid) => {
                let mut err = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Invalid input",
                    invalid.0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "),
                );
                err.errors = invalid
                    .0
                    .into_iter()
                    .map(|e| ProblemField { field: e.field, code: e.code, message: e.message })
                    .collect();
                err
            }
            Error::BadCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "bad-credentials",
                "Sign-in failed",
                "The user ID or password is incorrect.",
            ),
            Error::Unauthenticated => Self::unauthenticated(),
            Error::Locked { retry_after_secs } => {
                let mut err = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "sign-in-locked",
                    "Too many failed sign-ins",
                    format!(
                        "Sign-in is locked after too many failed attempts. Try again in {} minute(s), or reset \
                         your password by email.",
                        retry_after_secs.div_ceil(60)
                    ),
                );
                err.retry_after = Some(retry_after_secs);
                err
            }
            Error::BadCode => Self::new(
                StatusCode::UNAUTHORIZED,
                "bad-code",
                "Wrong code",
                "The code is incorrect or was already used. Enter the current code from your authenticator app, \
                 or a recovery code.",
            ),
            Error::Forbidden(why) => Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", why),
            Error::NotFound => Self::not_found(),
            Error::Conflict(conflict) => {
                let mut err = Self::new(StatusCode::CONFLICT, "conflict", "Conflict", conflict.message());
                err.code = Some(conflict.code());
                // A value already taken is also named next to its field, as invalid input is.
                err.errors = conflict
                    .field_error()
                    .map(|f| ProblemField { field: f.field, code: f.code, message: f.message })
                    .into_iter()
                    .collect();
                err
            }
            Error::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                Self::unavailable()
            }
            Error::Internal(cause) => {
                tracing::error!(cause = %Chain(&cause), "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "Something went wrong on the server; it has been logged.",
                )
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let (kind, title) = match r {
            JsonRejection::JsonDataError(_) => {
                ("invalid-body", "The JSON body does not have the expected fields and types")
            }
            JsonRejection::JsonSyntaxError(_) => ("malformed-body", "The body is not valid JSON"),
            JsonRejection::MissingJsonContentType(_) => ("unsupported-media-type", "Send the body as application/json"),
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => ("body-too-large", "The body is too large"),
            _ => ("bad-request", "The request body could not be read"),
        };
        Self::new(status, kind, title, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-query", "Invalid query parameters", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("urn:usher:problem:{}", self.kind),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.map(str::to_owned),
            errors: self.errors,
        };
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let bad_token = self.kind == "invalid-token";
        let retry_after = self.retry_after;
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            res.headers_mut().insert(header::RETRY_AFTER, secs);
        }
        if bad_token {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"usher\", error=\"invalid_token\""),
            );
        } else if unauthorized {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"usher\""));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<usher_domain::Invalid> for ApiError {
    fn from(e: usher_domain::Invalid) -> Self {
        Error::Invalid(e).into()
    }
}
