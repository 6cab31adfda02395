use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Home" />
        <h1>"Welcome to Skalin"</h1>
        <p class="lead">"Keep customer success in step with Intercom."</p>
        <ul class="cards">
            <li><a href="/integrations/intercom"><strong>"Intercom"</strong><span>"Connect your workspace and choose what to synchronize."</span></a></li>
            <li><a href="/customers"><strong>"Customers"</strong><span>"Companies synchronized from Intercom."</span></a></li>
            <li><a href="/contacts"><strong>"Contacts"</strong><span>"The people at your customers."</span></a></li>
            <li><a href="/interactions"><strong>"Interactions"</strong><span>"Tickets raised by your customers."</span></a></li>
        </ul>
    }
}
