//! What every API call goes through before its handler: stats, latency, the bearer
//! token, `Intercom-Version`, the rate limit and injected faults.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::faults;
use super::rate_limit::{self, Budget};
use super::state::State as Workspace;
use super::version::ApiVersion;
use super::Sandbox;

pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

pub async fn gate(State(sandbox): State<Sandbox>, request: Request, next: Next) -> Response {
    pass(sandbox, request, next, WithoutToken::Unauthorized).await
}

/// For the router's fallbacks (no route, or a route without this method): the 404 is
/// answered whatever the token, with the rate-limit headers when the token is valid, as
/// on every authenticated answer, and without them when it is not (docs/intercom.md §5).
pub async fn gate_unknown_route(State(sandbox): State<Sandbox>, request: Request, next: Next) -> Response {
    pass(sandbox, request, next, WithoutToken::Handler).await
}

/// What a call without a valid token gets.
#[derive(Clone, Copy)]
enum WithoutToken {
    Unauthorized,
    /// The handler's answer, with no rate-limit headers.
    Handler,
}

enum Admission {
    Admitted(Budget),
    NoToken,
    /// Answered here, with the window's headers.
    Refused(Response),
}

async fn pass(sandbox: Sandbox, mut request: Request, next: Next, without_token: WithoutToken) -> Response {
    let path = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let route = format!("{} {}", request.method(), path.unwrap_or_else(|| request.uri().path().to_string()));
    let latency = {
        let mut state = sandbox.lock();
        state.stats.total_calls += 1;
        *state.stats.calls.entry(route).or_default() += 1;
        state.config.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let admission = admit(&mut sandbox.lock(), &mut request);
    match (admission, without_token) {
        (Admission::Admitted(budget), _) => with_budget(next.run(request).await, &budget),
        (Admission::Refused(response), _) => response,
        // Invalid credentials get no rate-limit headers (docs/intercom.md §5).
        (Admission::NoToken, WithoutToken::Unauthorized) => ApiError::unauthorized().into_response(),
        (Admission::NoToken, WithoutToken::Handler) => next.run(request).await,
    }
}

fn admit(state: &mut Workspace, request: &mut Request) -> Admission {
    let Some(token) = bearer(request.headers()).filter(|t| state.tokens.contains(t)) else {
        return Admission::NoToken;
    };
    if state.storm_429 > 0 {
        state.storm_429 -= 1;
        state.stats.rate_limited += 1;
        let storm = rate_limit::storm(state);
        return Admission::Refused(with_budget(storm.error().into_response(), &storm));
    }
    let budget = rate_limit::spend(state, &token);
    if budget.exceeded {
        state.stats.rate_limited += 1;
        return Admission::Refused(with_budget(budget.error().into_response(), &budget));
    }
    // A gateway's failure, before the handler: nothing is consumed, so a retry of the
    // same call (a scroll page included) gets what it would have had.
    let rate = state.config.fault_rate;
    if rate > 0.0 && state.fault_rng.chance(rate) {
        state.stats.faults_injected += 1;
        let error = faults::injected(state);
        return Admission::Refused(with_budget(error.into_response(), &budget));
    }
    let header = request.headers().get("intercom-version").map(|v| v.to_str().unwrap_or("").to_string());
    let version = match header {
        Some(raw) => ApiVersion::parse(&raw),
        None => Some(ApiVersion::parse(&state.config.default_version).unwrap_or(ApiVersion::V2_16)),
    };
    // The live API's answer to a bad version is UNCONFIRMED; a 400 is the safe fake.
    let Some(version) = version else {
        let error = ApiError::new(
            StatusCode::BAD_REQUEST,
            "intercom_version_invalid",
            "The requested version could not be found",
        );
        return Admission::Refused(with_budget(error.into_response(), &budget));
    };
    request.extensions_mut().insert(version);
    Admission::Admitted(budget)
}

fn with_budget(mut response: Response, budget: &Budget) -> Response {
    budget.write(response.headers_mut());
    response
}
