//! The service catalog: items, publication, optimistic edits, search, import.

mod common;

use common::*;
use onewindow_core::calendar::{LimitUnit, TimeLimit};
use onewindow_core::catalog::{HandlingCategory, ItemStatus};
use onewindow_store::StoreError;
use onewindow_store::catalog::{ImportRow, ImportSummary, ItemFilter};

fn field_of(error: &StoreError) -> Option<&str> {
    match error {
        StoreError::Domain(e) => e.field(),
        _ => None,
    }
}

fn codes(items: &[onewindow_store::catalog::ServiceItem]) -> Vec<&str> {
    items.iter().map(|i| i.guide.code.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_item_is_a_draft_until_published() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let draft = store
            .create_item(
                admin(),
                market.id,
                guide("000117001000", "食品经营许可（新办）"),
                now(),
            )
            .await
            .unwrap();
        assert_eq!(draft.status, ItemStatus::Draft);
        assert_eq!(draft.version, 1);
        assert_eq!(draft.department_id, market.id);
        assert_eq!(draft.guide, guide("000117001000", "食品经营许可（新办）"));
        assert_eq!(store.item(draft.id).await.unwrap(), draft);
        assert_eq!(store.item_by_code("000117001000").await.unwrap(), draft);

        let published = store
            .set_item_status(admin(), draft.id, ItemStatus::Published, later(1))
            .await
            .unwrap();
        assert_eq!(published.status, ItemStatus::Published);
        assert_eq!(published.version, 2);
        assert_eq!(published.updated_at, later(1));

        assert!(matches!(
            store.item(draft.id + 100).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            store
                .set_item_status(admin(), draft.id + 100, ItemStatus::Published, now())
                .await,
            Err(StoreError::NotFound { .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_guide_or_a_taken_code_is_refused_naming_the_field() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let mut nameless = guide("000117001000", "食品经营许可（新办）");
        nameless.name = " ".into();
        let refused = store.create_item(admin(), market.id, nameless, now()).await;
        assert_eq!(field_of(&refused.unwrap_err()), Some("name"));

        store
            .create_item(
                admin(),
                market.id,
                guide("000117001000", "食品经营许可"),
                now(),
            )
            .await
            .unwrap();
        let taken = store
            .create_item(
                admin(),
                market.id,
                guide("000117001000", "另一个事项"),
                now(),
            )
            .await;
        assert_eq!(field_of(&taken.unwrap_err()), Some("code"));
        let (_, total) = store.items(&ItemFilter::default()).await.unwrap();
        assert_eq!(total, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guide_edit_from_a_stale_version_is_a_conflict() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let item = published_item(&store, market.id, guide("000117001000", "食品经营许可")).await;
        assert_eq!(item.version, 2);

        let mut edited = item.guide.clone();
        edited.office_hours = "工作日 9:00-17:00".into();
        let stale = store
            .update_guide(admin(), item.id, Some(1), edited.clone(), later(1))
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        assert_eq!(store.item(item.id).await.unwrap(), item);

        let updated = store
            .update_guide(admin(), item.id, Some(2), edited.clone(), later(1))
            .await
            .unwrap();
        assert_eq!(updated.version, 3);
        assert_eq!(updated.guide, edited);
        // Editing the guide keeps the item published.
        assert_eq!(updated.status, ItemStatus::Published);
        // Without an expected version the edit is last-writer-wins.
        let forced = store
            .update_guide(admin(), item.id, None, item.guide.clone(), later(2))
            .await
            .unwrap();
        assert_eq!(forced.version, 4);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn items_are_found_by_text_department_category_and_status_with_a_total() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let housing = department(&store, "HSZJ", "衡山县住房和城乡建设局").await;
        let food = published_item(&store, market.id, guide("0001", "食品经营许可（新办）")).await;
        let mut renewal = guide("0002", "食品经营许可（延续）");
        renewal.aliases = vec!["餐饮许可证换证".into()];
        let renewal = published_item(&store, market.id, renewal).await;
        let instant = store
            .create_item(
                admin(),
                market.id,
                instant_guide("0003", "个体工商户名称变更"),
                now(),
            )
            .await
            .unwrap();
        let building = published_item(&store, housing.id, guide("0004", "建筑工程施工许可")).await;
        let percent = published_item(&store, housing.id, guide("0005", "绿化率100%_核验")).await;

        let search = |filter: ItemFilter| {
            let store = store.clone();
            async move { store.items(&filter).await.unwrap() }
        };

        let (all, total) = search(ItemFilter::default()).await;
        assert_eq!(total, 5);
        assert_eq!(all.len(), 5);

        // Text matches the name first, then anything in the guide (aliases).
        let (found, total) = search(ItemFilter {
            text: Some(" 食品经营 ".into()),
            ..ItemFilter::default()
        })
        .await;
        assert_eq!((codes(&found), total), (vec!["0001", "0002"], 2));
        let (found, total) = search(ItemFilter {
            text: Some("换证".into()),
            ..ItemFilter::default()
        })
        .await;
        assert_eq!((codes(&found), total), (vec!["0002"], 1));
        // Codes match too, in any letter case (on both backends).
        let (found, total) = search(ItemFilter {
            text: Some("mb1234567x40004".into()),
            ..ItemFilter::default()
        })
        .await;
        assert_eq!((codes(&found), total), (vec!["0004"], 1));
        // The legal basis matches, the guide's other fields and keys do not.
        let (_, total) = search(ItemFilter {
            text: Some("食品安全法".into()),
            ..ItemFilter::default()
        })
        .await;
        assert_eq!(total, 5);
        for not_searched in ["衡山县政务服务中心", "materials", "true", "承办"] {
            let (found, _) = search(ItemFilter {
                text: Some(not_searched.into()),
                ..ItemFilter::default()
            })
            .await;
            assert!(
                found.is_empty(),
                "{not_searched} matched {:?}",
                codes(&found)
            );
        }
        // LIKE wildcards in the text are taken literally.
        let (found, total) = search(ItemFilter {
            text: Some("100%_".into()),
            ..ItemFilter::default()
        })
        .await;
        assert_eq!((codes(&found), total), (vec!["0005"], 1));
        let (found, _) = search(ItemFilter {
            text: Some("_".into()),
            ..ItemFilter::default()
        })
        .await;
        assert_eq!(codes(&found), vec!["0005"]);
        let (found, total) = search(ItemFilter {
            text: Some("没有这个事项".into()),
            ..ItemFilter::default()
        })
        .await;
        assert_eq!((found.len(), total), (0, 0));

        let (found, total) = search(ItemFilter {
            department_id: Some(housing.id),
            ..ItemFilter::default()
        })
        .await;
        assert_eq!((codes(&found), total), (vec!["0004", "0005"], 2));

        let (found, total) = search(ItemFilter {
            category: Some(HandlingCategory::Instant),
            ..ItemFilter::default()
        })
        .await;
        assert_eq!((codes(&found), total), (vec!["0003"], 1));

        let (found, total) = search(ItemFilter {
            status: Some(ItemStatus::Published),
            department_id: Some(market.id),
            ..ItemFilter::default()
        })
        .await;
        assert_eq!((codes(&found), total), (vec!["0001", "0002"], 2));

        // A page: the total counts every match, not the page.
        let (page, total) = search(ItemFilter {
            status: Some(ItemStatus::Published),
            limit: 2,
            offset: 1,
            ..ItemFilter::default()
        })
        .await;
        assert_eq!(total, 4);
        assert_eq!(codes(&page), vec!["0002", "0004"]);

        let _ = (food, renewal, instant, building, percent);
    })
    .await;
}

fn row(department_code: &str, code: &str, name: &str) -> ImportRow {
    ImportRow {
        department_code: department_code.into(),
        status: ItemStatus::Published,
        guide: guide(code, name),
        keep_form_fields: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_with_one_bad_department_code_changes_nothing() {
    for_each_backend(|store| async move {
        department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let audit_before = audit_entry_count(&store).await;
        let refused = store
            .import_items(
                admin(),
                vec![
                    row("HSSJ", "0001", "食品经营许可（新办）"),
                    row("NOPE", "0002", "食品经营许可（延续）"),
                ],
                now(),
            )
            .await;
        assert_eq!(field_of(&refused.unwrap_err()), Some("department_code"));
        let (_, total) = store.items(&ItemFilter::default()).await.unwrap();
        assert_eq!(total, 0, "the good row was not kept either");
        assert_eq!(audit_entry_count(&store).await, audit_before);

        // An invalid guide is refused before anything is written.
        let mut bad = row("HSSJ", "0003", "无名");
        bad.guide.materials.clear();
        let refused = store
            .import_items(admin(), vec![row("HSSJ", "0001", "食品"), bad], now())
            .await;
        assert_eq!(field_of(&refused.unwrap_err()), Some("materials"));
        let (_, total) = store.items(&ItemFilter::default()).await.unwrap();
        assert_eq!(total, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_reports_what_it_created_updated_and_left_unchanged() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let housing = department(&store, "HSZJ", "衡山县住房和城乡建设局").await;
        let rows = vec![
            row("HSSJ", "0001", "食品经营许可（新办）"),
            row("HSSJ", "0002", "食品经营许可（延续）"),
        ];
        let first = store
            .import_items(admin(), rows.clone(), now())
            .await
            .unwrap();
        assert_eq!(
            first,
            ImportSummary {
                created: 2,
                updated: 0,
                unchanged: 0
            }
        );
        let again = store
            .import_items(admin(), rows.clone(), now())
            .await
            .unwrap();
        assert_eq!(
            again,
            ImportSummary {
                created: 0,
                updated: 0,
                unchanged: 2
            }
        );

        let mut changed = rows.clone();
        changed[1].department_code = "HSZJ".into();
        changed.push(row("HSZJ", "0003", "建筑工程施工许可"));
        let third = store
            .import_items(admin(), changed, later(1))
            .await
            .unwrap();
        assert_eq!(
            third,
            ImportSummary {
                created: 1,
                updated: 1,
                unchanged: 1
            }
        );
        let moved = store.item_by_code("0002").await.unwrap();
        assert_eq!(moved.department_id, housing.id);
        assert_eq!(moved.version, 2);
        assert_eq!(moved.status, ItemStatus::Published);
        assert_eq!(
            store.item_by_code("0001").await.unwrap().department_id,
            market.id
        );

        let exported = store.all_items().await.unwrap();
        let exported: Vec<(&str, &str)> = exported
            .iter()
            .map(|(d, i)| (d.as_str(), i.guide.code.as_str()))
            .collect();
        assert_eq!(
            exported,
            vec![("HSSJ", "0001"), ("HSZJ", "0002"), ("HSZJ", "0003")]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_of_a_missing_department_is_refused_naming_the_field() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        let refused = store
            .create_item(
                admin(),
                market.id + 100,
                guide("0001", "食品经营许可"),
                now(),
            )
            .await;
        assert_eq!(field_of(&refused.unwrap_err()), Some("department_id"));
        let (_, total) = store.items(&ItemFilter::default()).await.unwrap();
        assert_eq!(total, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_a_guide_to_a_taken_code_is_refused_naming_the_field() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        store
            .create_item(
                admin(),
                market.id,
                guide("0001", "食品经营许可（新办）"),
                now(),
            )
            .await
            .unwrap();
        let second = store
            .create_item(
                admin(),
                market.id,
                guide("0002", "食品经营许可（延续）"),
                now(),
            )
            .await
            .unwrap();
        let mut taken = second.guide.clone();
        taken.code = "0001".into();
        let refused = store
            .update_guide(admin(), second.id, Some(second.version), taken, now())
            .await;
        assert_eq!(field_of(&refused.unwrap_err()), Some("code"));
        assert_eq!(store.item(second.id).await.unwrap(), second);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_promise_is_held_against_the_statutory_limit_in_force_on_save() {
    for_each_backend(|store| async move {
        let market = department(&store, "HSSJ", "衡山县市场监督管理局").await;
        // No statutory limit of its own: the law's 20 working days apply.
        let mut unset = guide("000117001000", "食品经营许可（新办）");
        unset.statutory_limit = TimeLimit::working_days(0);
        unset.promised_limit = TimeLimit::working_days(25);
        let refused = store
            .create_item(admin(), market.id, unset.clone(), now())
            .await
            .unwrap_err();
        assert_eq!(field_of(&refused), Some("promised_limit"));
        assert!(refused.to_string().contains("20个工作日"), "{refused}");

        unset.promised_limit = TimeLimit::working_days(20);
        let item = store
            .create_item(admin(), market.id, unset.clone(), now())
            .await
            .unwrap();
        assert_eq!(
            item.guide.rules().statutory_limit,
            TimeLimit::working_days(20)
        );

        // Joint handling (联办件): 45, so the longer promise is kept on edit.
        let mut joint = unset.clone();
        joint.category = HandlingCategory::Joint;
        joint.promised_limit = TimeLimit::working_days(30);
        let edited = store
            .update_guide(
                admin(),
                item.id,
                Some(item.version),
                joint.clone(),
                later(1),
            )
            .await
            .unwrap();
        assert_eq!(
            edited.guide.rules().statutory_limit,
            TimeLimit::working_days(45)
        );

        // A promise in working days against natural days is refused.
        let mut mixed = joint.clone();
        mixed.statutory_limit = TimeLimit {
            amount: 60,
            unit: LimitUnit::NaturalDays,
        };
        let refused = store
            .update_guide(admin(), item.id, Some(edited.version), mixed, later(2))
            .await
            .unwrap_err();
        assert_eq!(field_of(&refused), Some("promised_limit"));
        assert_eq!(store.item(item.id).await.unwrap(), edited);
    })
    .await;
}
