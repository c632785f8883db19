-- What the catalog search matches: the item's name, its aliases, its legal
-- basis and its codes, one per line, kept by the store on every write of an
-- item. Searching the guide's JSON text instead matched its keys too (a search
-- for "_" or "1" found every item).
-- Keep postgres/ in step with this file: same tables, same columns.
ALTER TABLE service_items ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

UPDATE service_items SET search_text =
    trim(name) || char(10)
    || COALESCE((SELECT group_concat(trim(value) || char(10), '') FROM json_each(guide, '$.aliases')), '')
    || COALESCE(trim(json_extract(guide, '$.legal_basis')), '')
    || char(10) || code || char(10) || implementing_code;
