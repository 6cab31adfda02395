//! Several Intercom workspaces behind one address: each token reaches its own.

use reqwest::{Client, StatusCode};
use sandbox::{Sandbox, SandboxConfig, SandboxHub, SANDBOX_CLIENT_ID};
use serde_json::Value;

fn workspace(seed: u64, companies: usize, token: &str) -> Sandbox {
    let sandbox = Sandbox::new(SandboxConfig { seed, companies, contacts: 20, tickets: 2, ..SandboxConfig::default() });
    sandbox.set_token(token);
    sandbox
}

async fn get(base: &str, path: &str, token: &str) -> (StatusCode, Value) {
    let response = Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn each_token_reaches_its_own_intercom_workspace() {
    let hub = SandboxHub::spawn(vec![workspace(1, 7, "token-a"), workspace(2, 3, "token-b")]).await.unwrap();
    let (a, b) = (hub.hub.workspace(0).unwrap(), hub.hub.workspace(1).unwrap());
    assert_ne!(a.app_id(), b.app_id());

    let (status, me_a) = get(&hub.base_url, "/me", "token-a").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me_a["app"]["id_code"], a.app_id().as_str());
    let (_, me_b) = get(&hub.base_url, "/me", "token-b").await;
    assert_eq!(me_b["app"]["id_code"], b.app_id().as_str());

    let (_, companies_a) = get(&hub.base_url, "/companies?per_page=50", "token-a").await;
    let (_, companies_b) = get(&hub.base_url, "/companies?per_page=50", "token-b").await;
    assert_eq!((companies_a["total_count"].as_u64(), companies_b["total_count"].as_u64()), (Some(7), Some(3)));

    let (status, _) = get(&hub.base_url, "/me", "sandbox-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "each workspace takes its own token only");
    assert_eq!(b.stats().total_calls, 2, "A's calls never reached B");
}

#[tokio::test]
async fn oauth_goes_to_the_first_workspace() {
    let hub = SandboxHub::spawn(vec![workspace(1, 1, "token-a"), workspace(2, 1, "token-b")]).await.unwrap();
    let consent = format!(
        "{}/oauth?client_id={SANDBOX_CLIENT_ID}&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&state=s1",
        hub.base_url
    );
    let page = Client::new().get(consent).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Authorize"));
}
