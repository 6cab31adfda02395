//! The labelled controls of the settings form. Each carries its visible label, so tests
//! and screen readers find it by the words on the page, and shows the server's message
//! for its setting under it.

use leptos::prelude::*;

use crate::components::FieldMessage;
use crate::domain::{
    FieldOption, IntercomFields, Mapping, RoleSource, ScheduleSettings, SyncMode, SyncObject, CONFLICT_RULE,
};
use crate::error::AppError;

fn dom_id(key: &str) -> String {
    key.replace(['.', '_'], "-")
}

/// A mode picker offering only the modes valid for its object; in Two-ways it states how
/// a field changed on both sides is settled.
#[component]
pub fn ModeSelect(
    object: SyncObject,
    key: &'static str,
    label: &'static str,
    value: Signal<SyncMode>,
    set: Callback<SyncMode>,
    disabled: bool,
    suggested: Signal<bool>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = dom_id(key);
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id disabled=disabled
                on:change=move |ev| if let Some(mode) = SyncMode::parse(&event_target_value(&ev)) { set.run(mode) }>
                {object.valid_modes().iter().map(|&mode| view! {
                    <option value=mode.as_str() selected=move || value.get() == mode prop:selected=move || value.get() == mode>
                        {mode.label()}
                    </option>
                }).collect_view()}
            </select>
            {move || suggested.get().then(|| view! {
                <p class="hint">"Suggested for the first set-up: Input only (Skalin reads, Intercom is left untouched)."</p>
            })}
            {move || (value.get() == SyncMode::TwoWays).then(|| view! {
                <p class="hint conflict-rule" data-conflict-rule-for=key>{CONFLICT_RULE}</p>
            })}
            <FieldMessage error key />
        </div>
    }
}

/// Where the options of a dropdown stand: fetched, or Intercom could not be reached.
pub type LiveFields = RwSignal<Result<IntercomFields, AppError>>;

fn option_text(field: &FieldOption) -> String {
    format!("{} ({})", field.label, field.data_type.label())
}

/// A mapping to one Intercom field: live fields of a compatible type, standard ones then
/// custom ones, archived ones hidden. A saved value Intercom no longer offers stays shown
/// (and Save says why it is refused) rather than being silently dropped.
#[component]
pub fn FieldSelect(
    mapping: Mapping,
    value: Signal<Option<String>>,
    set: Callback<Option<String>>,
    fields: LiveFields,
    disabled: bool,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let key = mapping.key();
    let id = dom_id(key);
    let options = move || {
        let current = value.get();
        fields.with(|fields| {
            let Ok(fields) = fields else {
                return (Vec::new(), Vec::new(), current.clone());
            };
            let (custom, standard): (Vec<_>, Vec<_>) =
                fields.options_for(mapping).into_iter().cloned().partition(|f| f.custom);
            let unknown = current.clone().filter(|c| !standard.iter().chain(custom.iter()).any(|f| &f.key == c));
            (standard, custom, unknown)
        })
    };
    let render = move |group: Vec<FieldOption>| {
        group
            .into_iter()
            .map(|f| {
                let selected = f.key.clone();
                let is_selected = move || value.get().as_deref() == Some(selected.as_str());
                view! { <option value=f.key.clone() selected=is_selected.clone() prop:selected=is_selected>{option_text(&f)}</option> }
            })
            .collect_view()
    };
    view! {
        <div class="field">
            <label for=id.clone()>{mapping.label()}</label>
            <select id=id disabled=disabled data-mapping=key
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    set.run((!v.is_empty()).then_some(v));
                }>
                <option value="" selected=move || value.get().is_none() prop:selected=move || value.get().is_none()>"Disabled"</option>
                {move || {
                    let (standard, custom, unknown) = options();
                    view! {
                        {(!standard.is_empty()).then(|| view! { <optgroup label="Standard fields">{render(standard)}</optgroup> })}
                        {(!custom.is_empty()).then(|| view! { <optgroup label="Custom attributes">{render(custom)}</optgroup> })}
                        {unknown.map(|k| view! { <option value=k.clone() selected=true>{format!("{k} (not offered by Intercom)")}</option> })}
                    }
                }}
            </select>
            <p class="hint">{format!("Accepts {} fields.", mapping.accepted_types())}</p>
            <FieldMessage error key />
        </div>
    }
}

/// Champion / Sponsor / Key user / End user: a yes/no contact field or an Intercom tag.
#[component]
pub fn RoleSelect(
    mapping: Mapping,
    value: Signal<Option<RoleSource>>,
    set: Callback<Option<RoleSource>>,
    fields: LiveFields,
    disabled: bool,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let key = mapping.key();
    let id = dom_id(key);
    let current = move || value.get().map(|v| v.to_option_value());
    let option = move |option_value: String, text: String| {
        let v = option_value.clone();
        let is_selected = move || current().as_deref() == Some(v.as_str());
        view! { <option value=option_value selected=is_selected.clone() prop:selected=is_selected>{text}</option> }
    };
    let groups = move || {
        fields.with(|fields| match fields {
            Ok(fields) => {
                let flags: Vec<(String, String)> = fields
                    .options_for(mapping)
                    .into_iter()
                    .map(|f| (RoleSource::Field(f.key.clone()).to_option_value(), option_text(f)))
                    .collect();
                let tags: Vec<(String, String)> = fields
                    .tags
                    .iter()
                    .map(|t| (RoleSource::Tag(t.name.clone()).to_option_value(), t.name.clone()))
                    .collect();
                (flags, tags)
            }
            Err(_) => (Vec::new(), Vec::new()),
        })
    };
    view! {
        <div class="field">
            <label for=id.clone()>{mapping.label()}</label>
            <select id=id disabled=disabled data-mapping=key
                on:change=move |ev| set.run(RoleSource::from_option_value(&event_target_value(&ev)))>
                <option value="" selected=move || value.get().is_none() prop:selected=move || value.get().is_none()>"Disabled"</option>
                {move || {
                    let (flags, tags) = groups();
                    let offered: Vec<String> = flags.iter().chain(tags.iter()).map(|(v, _)| v.clone()).collect();
                    let unknown = current().filter(|c| !offered.contains(c));
                    view! {
                        {(!flags.is_empty()).then(|| view! {
                            <optgroup label="Contact fields (yes/no)">
                                {flags.into_iter().map(|(v, t)| option(v, t)).collect_view()}
                            </optgroup>
                        })}
                        {(!tags.is_empty()).then(|| view! {
                            <optgroup label="Intercom tags">
                                {tags.into_iter().map(|(v, t)| option(v, format!("{t} (tag)"))).collect_view()}
                            </optgroup>
                        })}
                        {unknown.map(|k| view! { <option value=k.clone() selected=true>{format!("{k} (not offered by Intercom)")}</option> })}
                    }
                }}
            </select>
            <FieldMessage error key />
        </div>
    }
}

/// How often runs start by themselves. An interval the page does not offer (set by an
/// import) stays shown as saved rather than being silently changed.
#[component]
pub fn ScheduleSelect(
    value: Signal<Option<u32>>,
    set: Callback<Option<u32>>,
    disabled: bool,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let key = "schedule.every_minutes";
    let id = dom_id(key);
    let option = move |minutes: Option<u32>| {
        let is_selected = move || value.get() == minutes;
        view! {
            <option value=minutes.map(|m| m.to_string()).unwrap_or_default() selected=is_selected prop:selected=is_selected>
                {ScheduleSettings { every_minutes: minutes }.label()}
            </option>
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>"Schedule"</label>
            <select id=id disabled=disabled on:change=move |ev| set.run(event_target_value(&ev).parse::<u32>().ok())>
                {option(None)}
                {ScheduleSettings::CHOICES.into_iter().map(|m| option(Some(m))).collect_view()}
                {move || value.get().filter(|m| !ScheduleSettings::CHOICES.contains(m)).map(|m| option(Some(m)))}
            </select>
            <p class="hint">"Scheduled runs read what changed since the last one, and everything once a day. Off: runs start only with Sync now or the command line."</p>
            <FieldMessage error key />
        </div>
    }
}
