//! `table`: a caption, header cells and rows of rich cells; rows stream in.

use dgbot_protocol::message::TableCell;
use leptos::prelude::*;

use crate::logic::i18n::t;
use crate::state::view_model::BlockVm;
use crate::ui::parts::rich_text::block_view;

fn cell_view(cell: TableCell) -> impl IntoView {
    cell.blocks
        .iter()
        .map(|b| block_view(BlockVm::new(b)))
        .collect_view()
}

/// Tables scroll sideways inside their own region on narrow screens; rows stream in.
pub fn table_view(
    caption: Option<String>,
    columns: Vec<TableCell>,
    rows: ArcRwSignal<Vec<Vec<TableCell>>>,
) -> AnyView {
    let label = caption.clone().unwrap_or_else(|| t("Table").into());
    let head = (!columns.is_empty()).then(|| {
        view! { <thead><tr>{columns.into_iter().map(|c| view! { <th scope="col">{cell_view(c)}</th> }).collect_view()}</tr></thead> }
    });
    view! {
        <div class="table-wrap" role="region" aria-label=label tabindex="0" data-part="table">
            <table>
                {caption.map(|c| view! { <caption>{c}</caption> })}
                {head}
                <tbody>
                    <For
                        each=move || rows.get().into_iter().enumerate()
                        key=|(i, _)| *i
                        children=|(_, row)| view! { <tr>{row.into_iter().map(|c| view! { <td>{cell_view(c)}</td> }).collect_view()}</tr> }
                    />
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
