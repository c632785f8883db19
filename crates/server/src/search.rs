//! The public catalog search: an in-memory tantivy index of the published
//! items with jieba word segmentation, so that "营业执照", "开饭店" or
//! "公积金提取" find what people mean.
//!
//! - One document per published item: its name (boosted most), aliases, life
//!   events, department name, and the guide's text (conditions, materials,
//!   legal basis) with a low boost.
//! - Ranking: BM25 over those fields, then tiers so that an item whose name
//!   holds the query comes first, then aliases and life events, then words of
//!   the name, aliases or department; items matched only by guide text are
//!   listed only when nothing matched by name, alias, life event or
//!   department (a query for 营业执照 lists the registrations, not every item
//!   that asks for a copy of the licence).
//! - A few everyday words also look for what the catalog calls them
//!   (`SYNONYMS`: 营业执照 → 设立登记, 饭店 → 食品经营, …), a little below
//!   the query's own words.
//! - A query is cut to [`MAX_QUERY_CHARS`]; one of punctuation only finds
//!   nothing; an item's code finds the item.
//! - Freshness: the admin API calls [`CatalogSearch::catalog_changed`] after
//!   every catalog write, which makes the next search wait for a rebuild (one
//!   is started at once in the background). Writes made elsewhere (the CLI,
//!   another node) are picked up by a background refresh once the index is
//!   older than [`MAX_AGE`]; the older index answers meanwhile.
//! - jieba's dictionary is loaded once per process (the tokenizer's global
//!   instance, forced through [`JIEBA_READY`]), not per rebuild.
//! - Staff searching drafts or all statuses still use the store's LIKE
//!   search: the index holds published items only.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::{Duration, Instant};

use onewindow_core::catalog::{Guide, ItemStatus, Target};
use onewindow_store::Store;
use onewindow_store::catalog::{ItemFilter, ServiceItem};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, TextAnalyzer, TokenStream};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::error::ApiError;

/// How long an index built from the store is trusted without a change
/// announced through the admin API.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// Characters of a query that are looked at; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 100;

/// Distinct words of a query that are searched for.
const MAX_TERMS: usize = 32;

const TOKENIZER: &str = "jieba";

/// Field boosts: the name weighs most, the guide's text least.
const NAME_BOOST: f32 = 8.0;
const ALIAS_BOOST: f32 = 4.0;
const EVENT_BOOST: f32 = 2.5;
const DEPARTMENT_BOOST: f32 = 1.5;
const TEXT_BOOST: f32 = 0.5;

/// Words that say nothing about which item is meant ("怎么办理…").
const STOPWORDS: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "在", "我", "我要", "要", "想", "我想", "怎么", "怎样",
    "如何", "哪里", "哪儿", "什么", "需要", "办", "办理", "申请", "事项", "一下", "吗", "呢", "去",
    "给", "个", "请问", "可以", "能", "不", "是", "有", "到", "啊", "吧", "手续",
];

/// What people say and what the catalog calls it: a query holding the first
/// also looks for the second, a little below its own words.
const SYNONYMS: &[(&str, &str)] = &[
    ("营业执照", "设立登记"),
    ("饭店", "食品经营"),
    ("餐馆", "食品经营"),
    ("餐饮", "食品经营"),
    ("养老金", "养老保险"),
    ("退休金", "养老保险"),
    ("社保", "社会保险"),
    ("医保", "医疗保险"),
    ("户口", "户籍"),
    ("驾照", "驾驶证"),
    ("房产证", "不动产"),
    ("结婚", "婚姻登记"),
    ("离婚", "婚姻登记"),
    ("低保", "最低生活保障"),
];

/// Weight of a word that comes from a synonym rather than the query.
const SYNONYM_WEIGHT: f32 = 0.5;

/// Forces the jieba dictionary to load (once per process; later calls are free).
pub static JIEBA_READY: LazyLock<()> = LazyLock::new(|| {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream("营业执照");
    while stream.advance() {}
});

fn analyzer() -> TextAnalyzer {
    // The tokenizer without a custom instance uses tantivy-jieba's global
    // `Jieba`, built on first use and shared by every index of the process.
    TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::new())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .build()
}

/// Lower case, full-width letters and digits as ASCII, no white space.
fn normalized(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Only letters, digits and CJK characters: what a whole-phrase match compares.
fn letters_only(text: &str) -> String {
    normalized(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let word = &stream.token().text;
        if word.chars().any(char::is_alphanumeric) {
            out.push(word.clone());
        }
    }
    out
}

fn word_set(analyzer: &mut TextAnalyzer, texts: &[&str]) -> HashSet<String> {
    texts
        .iter()
        .flat_map(|text| words(analyzer, &normalized(text)))
        .collect()
}

/// The words of a query that are searched for: punctuation, filler words and,
/// beside longer words, single characters are dropped.
fn query_terms(analyzer: &mut TextAnalyzer, query: &str) -> Vec<String> {
    let mut all = Vec::new();
    for word in words(analyzer, query) {
        if !all.contains(&word) {
            all.push(word);
        }
    }
    let meaningful: Vec<String> = all
        .iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .cloned()
        .collect();
    let mut terms = if meaningful.is_empty() {
        all
    } else {
        meaningful
    };
    let long = |w: &String| w.chars().count() > 1 || w.chars().all(|c| c.is_ascii_alphanumeric());
    if terms.iter().any(|w| w.chars().count() > 1) {
        terms.retain(long);
    }
    terms.truncate(MAX_TERMS);
    terms
}

/// What ranking needs of an item besides its BM25 score.
struct Entry {
    item: ServiceItem,
    name: String,
    phrases: Vec<String>,
    codes: [String; 2],
    name_words: HashSet<String>,
    other_words: HashSet<String>,
}

#[derive(Clone, Copy)]
struct Fields {
    ord: Field,
    name: Field,
    aliases: Field,
    events: Field,
    department: Field,
    text: Field,
}

/// An index of one state of the catalog.
pub struct SearchIndex {
    reader: IndexReader,
    fields: Fields,
    entries: Vec<Entry>,
    analyzer: TextAnalyzer,
}

/// Narrowing by whom an item serves and by life event (主题), as the
/// portal's theme tiles do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facet {
    pub target: Option<Target>,
    pub event: Option<String>,
}

impl Facet {
    pub fn is_empty(&self) -> bool {
        self.target.is_none() && self.event.is_none()
    }

    fn matches(&self, guide: &Guide) -> bool {
        serves(guide.target, self.target)
            && self
                .event
                .as_ref()
                .is_none_or(|e| guide.life_events.contains(e))
    }
}

/// Whether an item for `target` serves `wanted` (an item for both serves each).
fn serves(target: Target, wanted: Option<Target>) -> bool {
    match wanted {
        None | Some(Target::Both) => true,
        Some(w) => target == w || target == Target::Both,
    }
}

/// How many published items each life event and department has.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    /// Life events of items serving the asked target, most items first.
    pub events: Vec<(String, usize)>,
    /// Department id → published items.
    pub departments: HashMap<i64, usize>,
}

/// One page of search results and how many items matched in all.
#[derive(Debug, Clone)]
pub struct Found {
    pub items: Vec<ServiceItem>,
    pub total: i64,
}

impl SearchIndex {
    /// Indexes the published ones of `items`; `departments` names them.
    pub fn build(
        items: impl IntoIterator<Item = ServiceItem>,
        departments: &HashMap<i64, String>,
    ) -> tantivy::Result<SearchIndex> {
        LazyLock::force(&JIEBA_READY);
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let mut schema = Schema::builder();
        let fields = Fields {
            ord: schema.add_u64_field("ord", INDEXED | STORED),
            name: schema.add_text_field("name", text.clone()),
            aliases: schema.add_text_field("aliases", text.clone()),
            events: schema.add_text_field("life_events", text.clone()),
            department: schema.add_text_field("department", text.clone()),
            text: schema.add_text_field("text", text),
        };
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(TOKENIZER, analyzer());
        let mut analyzer = analyzer();
        let mut entries = Vec::new();
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 15_000_000)?;
        for item in items {
            if item.status != ItemStatus::Published {
                continue;
            }
            let g = &item.guide;
            let department = departments
                .get(&item.department_id)
                .map(String::as_str)
                .unwrap_or_default();
            let mut body: Vec<&str> = g.conditions.iter().map(String::as_str).collect();
            for m in &g.materials {
                body.push(&m.name);
                body.push(&m.reason);
            }
            body.push(&g.legal_basis);
            let mut doc = TantivyDocument::default();
            doc.add_u64(fields.ord, entries.len() as u64);
            doc.add_text(fields.name, normalized(&g.name));
            for alias in &g.aliases {
                doc.add_text(fields.aliases, normalized(alias));
            }
            for event in &g.life_events {
                doc.add_text(fields.events, normalized(event));
            }
            doc.add_text(fields.department, normalized(department));
            for line in &body {
                doc.add_text(fields.text, normalized(line));
            }
            writer.add_document(doc)?;
            let mut other: Vec<&str> = g.aliases.iter().map(String::as_str).collect();
            other.extend(g.life_events.iter().map(String::as_str));
            other.push(department);
            entries.push(Entry {
                name: letters_only(&g.name),
                phrases: g
                    .aliases
                    .iter()
                    .chain(&g.life_events)
                    .map(|p| letters_only(p))
                    .filter(|p| p.chars().count() > 1)
                    .collect(),
                codes: [normalized(&g.code), normalized(&g.implementing_code)],
                name_words: word_set(&mut analyzer, &[&g.name]),
                other_words: word_set(&mut analyzer, &other),
                item,
            });
        }
        writer.commit()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            reader,
            fields,
            entries,
            analyzer,
        })
    }

    /// How many items the index holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Life events (of items serving `target`) and departments with their
    /// numbers of published items.
    pub fn facets(&self, target: Option<Target>) -> Facets {
        let mut events: HashMap<&str, usize> = HashMap::new();
        let mut departments = HashMap::new();
        for entry in &self.entries {
            let g = &entry.item.guide;
            *departments.entry(entry.item.department_id).or_default() += 1;
            if serves(g.target, target) {
                for event in &g.life_events {
                    *events.entry(event.as_str()).or_default() += 1;
                }
            }
        }
        let mut events: Vec<(String, usize)> = events
            .into_iter()
            .map(|(e, n)| (e.to_string(), n))
            .collect();
        // "其他" goes last whatever its size.
        events.sort_by(|a, b| {
            (a.0 == "其他")
                .cmp(&(b.0 == "其他"))
                .then(b.1.cmp(&a.1))
                .then(a.0.cmp(&b.0))
        });
        Facets {
            events,
            departments,
        }
    }

    /// Published items of the facet and the filter's department and
    /// category, by department and id, one page of them.
    pub fn browse(&self, facet: &Facet, filter: &ItemFilter) -> Found {
        let mut matching: Vec<&ServiceItem> = self
            .entries
            .iter()
            .map(|e| &e.item)
            .filter(|item| {
                facet.matches(&item.guide)
                    && filter.department_id.is_none_or(|d| item.department_id == d)
                    && filter.category.is_none_or(|c| item.guide.category == c)
            })
            .collect();
        matching.sort_by_key(|i| (i.department_id, i.id));
        let (offset, limit) = page_of(filter);
        Found {
            total: matching.len() as i64,
            items: matching
                .into_iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect(),
        }
    }

    /// The published items among `ids`, in that order (unknown or
    /// unpublished ids are left out).
    pub fn published(&self, ids: &[i64]) -> Vec<ServiceItem> {
        ids.iter()
            .filter_map(|id| self.entries.iter().find(|e| e.item.id == *id))
            .map(|e| e.item.clone())
            .collect()
    }

    /// The items matching `query` and the filter's department and category,
    /// best first, one page of them (the filter's limit and offset).
    pub fn search(&self, query: &str, filter: &ItemFilter) -> tantivy::Result<Found> {
        self.search_in(query, &Facet::default(), filter)
    }

    /// [`SearchIndex::search`] narrowed to a facet.
    pub fn search_in(
        &self,
        query: &str,
        facet: &Facet,
        filter: &ItemFilter,
    ) -> tantivy::Result<Found> {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let whole = letters_only(&query);
        let mut analyzer = self.analyzer.clone();
        let terms = query_terms(&mut analyzer, &normalized(&query));
        let synonyms: Vec<String> = SYNONYMS
            .iter()
            .filter(|(said, meant)| whole.contains(said) && !whole.contains(meant))
            .map(|(_, meant)| meant.to_string())
            .collect();
        let mut weighted: Vec<(&str, f32)> = terms.iter().map(|t| (t.as_str(), 1.0)).collect();
        let synonym_terms: Vec<String> = synonyms
            .iter()
            .flat_map(|s| query_terms(&mut analyzer, s))
            .filter(|t| !terms.contains(t))
            .collect();
        weighted.extend(synonym_terms.iter().map(|t| (t.as_str(), SYNONYM_WEIGHT)));
        weighted.truncate(MAX_TERMS);
        let mut ranked: Vec<(u8, f32, usize)> = Vec::new();
        if !terms.is_empty() && !self.entries.is_empty() {
            let f = self.fields;
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (term, weight) in weighted {
                for (field, boost) in [
                    (f.name, NAME_BOOST),
                    (f.aliases, ALIAS_BOOST),
                    (f.events, EVENT_BOOST),
                    (f.department, DEPARTMENT_BOOST),
                    (f.text, TEXT_BOOST),
                ] {
                    // A synonym's words point at names, not at guide text.
                    if weight < 1.0 && field == f.text {
                        continue;
                    }
                    let query = TermQuery::new(
                        Term::from_field_text(field, term),
                        IndexRecordOption::WithFreqs,
                    );
                    let boosted = BoostQuery::new(Box::new(query), boost * weight);
                    clauses.push((Occur::Should, Box::new(boosted)));
                }
            }
            let searcher = self.reader.searcher();
            let hits = searcher.search(
                &BooleanQuery::new(clauses),
                &TopDocs::with_limit(self.entries.len()).order_by_score(),
            )?;
            for (score, address) in hits {
                use tantivy::schema::Value as _;
                let doc: TantivyDocument = searcher.doc(address)?;
                let Some(ord) = doc.get_first(f.ord).and_then(|v| v.as_u64()) else {
                    continue;
                };
                let ord = ord as usize;
                if let Some(entry) = self.entries.get(ord) {
                    ranked.push((tier(entry, &whole, &terms, &synonyms), score, ord));
                }
            }
        }
        // An item's code finds it too.
        let code = normalized(&query);
        if !code.is_empty() {
            for (ord, entry) in self.entries.iter().enumerate() {
                if entry.codes.contains(&code) {
                    ranked.retain(|(_, _, o)| *o != ord);
                    ranked.push((6, f32::MAX, ord));
                }
            }
        }
        if ranked.iter().any(|(tier, _, _)| *tier > 0) {
            ranked.retain(|(tier, _, _)| *tier > 0);
        }
        ranked.retain(|(_, _, ord)| {
            let item = &self.entries[*ord].item;
            filter.department_id.is_none_or(|d| item.department_id == d)
                && filter.category.is_none_or(|c| item.guide.category == c)
                && facet.matches(&item.guide)
        });
        ranked.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(b.1.total_cmp(&a.1))
                .then(self.entries[a.2].item.id.cmp(&self.entries[b.2].item.id))
        });
        let (offset, limit) = page_of(filter);
        Ok(Found {
            total: ranked.len() as i64,
            items: ranked
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(_, _, ord)| self.entries[*ord].item.clone())
                .collect(),
        })
    }
}

/// The offset and length of the filter's page.
fn page_of(filter: &ItemFilter) -> (usize, usize) {
    let limit = if filter.limit <= 0 { 50 } else { filter.limit } as usize;
    (filter.offset.max(0) as usize, limit)
}

/// How well an item matches, before its score: 5: the name holds the whole
/// query (or the query the whole name); 4: an alias or life event does; 3:
/// the name holds every word, or what a synonym of the query means; 2: some
/// words of the name; 1: words of aliases, life events or the department; 0:
/// only the guide's text.
fn tier(entry: &Entry, whole: &str, terms: &[String], synonyms: &[String]) -> u8 {
    let contains = |a: &str, b: &str| b.chars().count() > 1 && a.contains(b);
    if contains(&entry.name, whole) || contains(whole, &entry.name) {
        return 5;
    }
    if entry
        .phrases
        .iter()
        .any(|p| contains(p, whole) || contains(whole, p))
    {
        return 4;
    }
    let in_name = terms
        .iter()
        .filter(|t| entry.name_words.contains(*t))
        .count();
    if (!terms.is_empty() && in_name == terms.len())
        || synonyms.iter().any(|s| contains(&entry.name, s))
    {
        3
    } else if in_name > 0 {
        2
    } else if terms.iter().any(|t| entry.other_words.contains(t)) {
        1
    } else {
        0
    }
}

/// The current index of a server and what keeps it current.
#[derive(Default)]
pub struct CatalogSearch {
    current: RwLock<Option<Built>>,
    /// Bumped by every announced catalog change.
    generation: AtomicU64,
    /// A refresh of an index older than [`MAX_AGE`] is under way.
    refreshing: AtomicBool,
    /// One rebuild at a time.
    rebuilding: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Built {
    index: Arc<SearchIndex>,
    generation: u64,
    at: Instant,
}

impl CatalogSearch {
    pub fn new() -> Self {
        CatalogSearch::default()
    }

    /// Announces a catalog write: the next search sees it. A rebuild starts
    /// at once in the background so that search rarely waits for it.
    pub fn catalog_changed(self: &Arc<Self>, store: &Store) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let this = Arc::clone(self);
        let store = store.clone();
        tokio::spawn(async move {
            if let Err(e) = this.rebuild(&store).await {
                tracing::warn!(error = %e.message, "rebuilding the catalog search index");
            }
        });
    }

    fn fresh(&self) -> Option<Arc<SearchIndex>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current
            .as_ref()
            .filter(|b| {
                b.generation == self.generation.load(Ordering::SeqCst) && b.at.elapsed() < MAX_AGE
            })
            .map(|b| Arc::clone(&b.index))
    }

    /// The index of the catalog as it is now, built when needed. After an
    /// announced change a search waits for the rebuild; an index that is only
    /// older than [`MAX_AGE`] still answers while a fresh one is built.
    pub async fn index(self: &Arc<Self>, store: &Store) -> Result<Arc<SearchIndex>, ApiError> {
        let current = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(built) = current
            && built.generation == self.generation.load(Ordering::SeqCst)
        {
            if built.at.elapsed() >= MAX_AGE && !self.refreshing.swap(true, Ordering::SeqCst) {
                let this = Arc::clone(self);
                let store = store.clone();
                tokio::spawn(async move {
                    if let Err(e) = this.rebuild(&store).await {
                        tracing::warn!(error = %e.message, "refreshing the catalog search index");
                    }
                    this.refreshing.store(false, Ordering::SeqCst);
                });
            }
            return Ok(built.index);
        }
        self.rebuild(store).await
    }

    /// Builds the index unless a fresh one exists (one build at a time).
    async fn rebuild(&self, store: &Store) -> Result<Arc<SearchIndex>, ApiError> {
        let _guard = self.rebuilding.lock().await;
        if let Some(index) = self.fresh() {
            return Ok(index);
        }
        // Read before loading: a change announced during the load makes this
        // build stale at once.
        let generation = self.generation.load(Ordering::SeqCst);
        let items = store.all_items().await?;
        let departments: HashMap<i64, String> = store
            .departments()
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();
        let index = tokio::task::spawn_blocking(move || {
            SearchIndex::build(items.into_iter().map(|(_, item)| item), &departments)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        let index = Arc::new(index);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Built {
            index: Arc::clone(&index),
            generation,
            at: Instant::now(),
        });
        Ok(index)
    }
}

/// The catalog listing behind the home page and `GET /api/v1/items`: a search
/// of published items goes to the index, anything else (no query, staff
/// listing drafts) to the store.
pub async fn find_items(
    search: &Arc<CatalogSearch>,
    store: &Store,
    filter: &ItemFilter,
) -> Result<(Vec<ServiceItem>, i64), ApiError> {
    find_items_in(search, store, filter, &Facet::default()).await
}

/// [`find_items`] narrowed to a facet of published items (the portal's
/// themes), which the index answers.
pub async fn find_items_in(
    search: &Arc<CatalogSearch>,
    store: &Store,
    filter: &ItemFilter,
    facet: &Facet,
) -> Result<(Vec<ServiceItem>, i64), ApiError> {
    let query = filter.text.as_deref().map(str::trim).unwrap_or_default();
    if !facet.is_empty() && filter.status == Some(ItemStatus::Published) {
        let index = search.index(store).await?;
        let found = if query.is_empty() {
            index.browse(facet, filter)
        } else {
            index
                .search_in(query, facet, filter)
                .map_err(ApiError::internal)?
        };
        return Ok((found.items, found.total));
    }
    if query.is_empty() {
        let filter = ItemFilter {
            text: None,
            ..filter.clone()
        };
        return Ok(store.items(&filter).await?);
    }
    if filter.status != Some(ItemStatus::Published) {
        return Ok(store.items(filter).await?);
    }
    let index = search.index(store).await?;
    let found = index.search(query, filter).map_err(ApiError::internal)?;
    Ok((found.items, found.total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_lose_punctuation_and_filler_words() {
        let mut analyzer = analyzer();
        assert_eq!(
            query_terms(&mut analyzer, "！？。，、"),
            Vec::<String>::new()
        );
        let terms = query_terms(&mut analyzer, "怎么办营业执照");
        assert!(terms.contains(&"营业执照".to_string()), "{terms:?}");
        assert!(!terms.iter().any(|t| t == "办" || t == "怎么"), "{terms:?}");
        assert_eq!(query_terms(&mut analyzer, "办理"), vec!["办理".to_string()]);
    }

    #[test]
    fn full_width_letters_are_ascii() {
        assert_eq!(normalized("ＩＣＰ 备案"), "icp备案");
        assert_eq!(letters_only("食品经营许可（新办）"), "食品经营许可新办");
    }
}
