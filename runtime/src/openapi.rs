//! The OpenAPI 3.1 document served at `/reference/openapi.json`, generated
//! from the routes actually mounted: only the plugins present appear, with
//! request and response schemas derived from the handlers' own types.

use serde::Serialize;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem,
    PathsBuilder, Ref, RefOr, Required, ServerBuilder,
};
use utoipa::{PartialSchema, ToSchema};

use crate::config::AuthConfig;
use crate::route::{Route, Success};

/// The JSON error body every error response carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Human-readable message.
    pub message: String,
    /// SCREAMING_SNAKE error code.
    pub code: String,
}

fn describe(status: u16) -> &'static str {
    match status {
        400 => "Invalid input",
        401 => "No valid session",
        403 => "Forbidden (origin check, unverified email, callback URL)",
        404 => "Not found",
        408 => "Request body not received within the body timeout",
        413 => "Request body larger than the limit (64 KiB by default)",
        415 => "Body is not application/json",
        422 => "Conflict with existing data",
        429 => "Too many requests",
        500 => "Internal error",
        503 => "Database unavailable, or too many password hashes waiting (with Retry-After)",
        _ => "Error",
    }
}

fn json_response(description: &str, schema: RefOr<Schema>) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

fn method(route: &Route) -> HttpMethod {
    match route.method.as_str() {
        "GET" => HttpMethod::Get,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        "HEAD" => HttpMethod::Head,
        "OPTIONS" => HttpMethod::Options,
        "TRACE" => HttpMethod::Trace,
        // `BetterAuth::build` refuses routes with any other method.
        _ => HttpMethod::Post,
    }
}

/// Builds the document for a set of mounted routes.
pub fn document(config: &AuthConfig, routes: &[Route]) -> OpenApi {
    let mut components: Vec<(String, RefOr<Schema>)> =
        vec![(ErrorBody::name().into_owned(), ErrorBody::schema())];
    let error_ref = || RefOr::Ref(Ref::from_schema_name("ErrorBody"));
    let mut paths = PathsBuilder::new();
    let mut items: Vec<(String, PathItem)> = Vec::new();
    for route in routes {
        let mut op = OperationBuilder::new()
            .summary(Some(route.summary))
            .operation_id(Some(format!(
                "{}{}",
                route.method.as_str().to_lowercase(),
                route.path.replace(['/', '{', '}', '-'], "_")
            )));
        if let Some(body) = route.body {
            let schema = body(&mut components);
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(if route.body_required {
                        Required::True
                    } else {
                        Required::False
                    }))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .build(),
            ));
        }
        for segment in route.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
                );
            }
        }
        for (name, required) in route.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(if *required {
                        Required::True
                    } else {
                        Required::False
                    })
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            );
        }
        let redirect = || {
            ResponseBuilder::new()
                .description("Redirect to the callback URL")
                .build()
        };
        op = match route.success {
            Success::Json(schema) => {
                op.response("200", json_response("Success", schema(&mut components)))
            }
            Success::NullableJson(schema) => {
                // `anyOf`: with `oneOf`, null would have to match exactly one
                // branch, and a schema that allows anything matches it too.
                let any_of = AnyOfBuilder::new()
                    .item(schema(&mut components))
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .build();
                op.response(
                    "200",
                    json_response(
                        "Success, or null without a session",
                        Schema::AnyOf(any_of).into(),
                    ),
                )
            }
            Success::Redirect => op.response("302", redirect()),
            Success::JsonOrRedirect(schema) => op
                .response("200", json_response("Success", schema(&mut components)))
                .response("302", redirect()),
        };
        let mut statuses: Vec<u16> = route.errors.to_vec();
        if route.authenticated {
            statuses.push(401);
            op = op
                .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
                .security(SecurityRequirement::new("cookie", Vec::<String>::new()));
        }
        if route.body.is_some() {
            statuses.extend([400, 408, 413, 415]);
        }
        if !route.query.is_empty() {
            // Query text is validated too (no NUL characters, for one).
            statuses.push(400);
        }
        if route.method != http::Method::GET {
            statuses.push(403);
        }
        statuses.extend([429, 500, 503]);
        statuses.sort_unstable();
        statuses.dedup();
        for status in statuses {
            op = op.response(
                status.to_string(),
                json_response(describe(status), error_ref()),
            );
        }
        let item = PathItem::new(method(route), op.build());
        match items.iter_mut().find(|(p, _)| p == route.path) {
            Some((_, existing)) => existing.merge_operations(item),
            None => items.push((route.path.to_owned(), item)),
        }
    }
    for (path, item) in items {
        paths = paths.path(path, item);
    }
    components.sort_by(|a, b| a.0.cmp(&b.0));
    components.dedup_by(|a, b| a.0 == b.0);
    let components = ComponentsBuilder::new()
        .schemas_from_iter(components)
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The `set-auth-token` value from sign-in"))
                    .build(),
            ),
        )
        .security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(format!(
                "{}{}",
                if config.is_secure() { "__Secure-" } else { "" },
                config.session.cookie_name
            )))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Better Auth")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Email/password authentication and sessions (Better Auth's HTTP API).",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new()
            .url(config.route_url(""))
            .build()]))
        .paths(paths.build())
        .components(Some(components))
        .build()
}
