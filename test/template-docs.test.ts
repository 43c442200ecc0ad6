// docs/templates.md is generated from the templates as data (scripts/build-template-docs.ts): it must be
// up to date, and it must actually carry the templates, columns, limits and lists.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { buildTemplateDocs, DEFAULT_INPUT, DOC_PATH } from '../scripts/build-template-docs.js';
import { COUNTRIES } from '../src/kb/countries.js';
import { SHIPPED_LISTS } from '../src/kb/lists.js';
import { EXPORT_TEMPLATES } from '../src/templates/export-templates.js';
import { companyDetails, FIRM_LIST_TEMPLATES, IMPORT_TEMPLATES } from '../src/templates/import-templates.js';
import * as limits from '../src/templates/limits.js';
import type { Column, ImportTemplate } from '../src/templates/types.js';

const REGENERATE =
  'docs/templates.md is out of date with src/templates: run `npm run docs:templates` and commit it';

/** The first line where two texts differ, to point at the drift without printing both documents. */
function firstDifference(expected: string, actual: string): string {
  const e = expected.split('\n');
  const a = actual.split('\n');
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i]) {
      return `line ${i + 1}:\n  generated: ${JSON.stringify(e[i] ?? '<end of file>')}\n  committed: ${JSON.stringify(a[i] ?? '<end of file>')}`;
    }
  }
  return 'no line differs (line ends?)';
}

const generated = buildTemplateDocs();

describe('docs/templates.md', () => {
  test('is what npm run docs:templates generates', () => {
    let committed: string;
    try {
      committed = readFileSync(DOC_PATH, 'utf8');
    } catch {
      assert.fail(`docs/templates.md is missing: run \`npm run docs:templates\``);
    }
    if (committed !== generated)
      assert.fail(`${REGENERATE}\nFirst difference, ${firstDifference(generated, committed)}`);
  });

  test('is deterministic', () => {
    assert.equal(buildTemplateDocs(), generated);
  });

  test('names every template and every column', () => {
    const templates = [...IMPORT_TEMPLATES, ...FIRM_LIST_TEMPLATES];
    assert.equal(IMPORT_TEMPLATES.length, 11);
    assert.equal(EXPORT_TEMPLATES.length, 8);
    for (const t of [...templates, ...EXPORT_TEMPLATES]) {
      assert.ok(generated.includes(`\`${t.name}\``), `${t.name} is not in the document`);
      for (const c of t.columns) {
        assert.ok(generated.includes(`| ${c.name} |`), `${t.name}: column ${c.name} has no row`);
      }
    }
  });

  test('lists import templates in processing order, each with its file name and all its columns', () => {
    let from = 0;
    for (const t of [...IMPORT_TEMPLATES].sort((a, b) => a.order - b.order)) {
      const at = generated.indexOf(`### ${t.order}. \`${t.name}\``, from);
      assert.ok(at >= from, `${t.name} is missing or out of order`);
      const section = generated.slice(at, generated.indexOf('\n### ', at + 1));
      assert.ok(section.includes(`\`${t.name}_YYYYMMDD.csv\``), `${t.name}: no file name`);
      const rows = section.split('\n').filter((l) => /^\| \d+ \|/.test(l));
      assert.deepEqual(
        rows.map((l) => l.split(' | ')[1]),
        t.columns.map((c) => c.name),
        `${t.name}: the table's columns are not the template's`,
      );
      from = at;
    }
  });

  test("prints the limits' numbers", () => {
    const numbers = Object.entries(limits).filter(([, v]) => typeof v === 'number') as [string, number][];
    assert.ok(numbers.length >= 7, 'limits.ts exports fewer numbers than expected');
    for (const [name, n] of numbers) {
      // Counts are grouped (32,767); years are not (2199).
      const shown = [n.toLocaleString('en-US'), String(n)];
      assert.ok(
        shown.some((s) => generated.includes(s)),
        `${name} (${shown.join(' or ')}) is not in the document`,
      );
    }
    assert.ok(generated.includes(`${limits.MIN_YEAR}–${limits.MAX_YEAR}`));
    assert.ok(generated.includes(`at most ${limits.MAX_KEY_CHARS} characters`));
  });

  test('spells out the shipped knowledge-base lists and the size of the country list', () => {
    for (const [name, entries] of Object.entries(SHIPPED_LISTS)) {
      assert.ok(generated.includes(`### \`${name}\``), `list ${name} has no section`);
      for (const e of entries) assert.ok(generated.includes(`\`${e}\``), `${name}: entry ${e} is missing`);
    }
    assert.ok(generated.includes(`${COUNTRIES.length} entries`));
    assert.ok(generated.includes('caseport kb export countries'));
  });

  test('documents column properties from the data: key, required, KB list, pattern, reference', () => {
    assert.match(generated, /\| 1 \| EmployerID \| text \| yes \| yes \|/);
    assert.match(generated, /\| 2 \| EmployerName \| text \| {2}\| yes \|/);
    assert.match(generated, /\| FEIN \| pattern: NN-NNNNNNN \|/);
    assert.match(generated, /\| CurrentImmigrationStatus \| KB `visa-types` \|/);
    assert.match(generated, /SupervisorContactID .*ContactType is Supervisor/);
  });
});

describe('the generator', () => {
  const withColumn = (column: Column): ImportTemplate => ({
    ...companyDetails,
    columns: [...companyDetails.columns, column],
  });
  /** The project's templates with company_Details_import replaced by `t`. */
  const input = (t: ImportTemplate) => ({
    ...DEFAULT_INPUT,
    importTemplates: IMPORT_TEMPLATES.map((x) => (x === companyDetails ? t : x)),
  });

  test('follows a change of type in the data', () => {
    const changed: ImportTemplate = {
      ...companyDetails,
      columns: companyDetails.columns.map((c) =>
        c.name === 'YearEstablished' ? { ...c, type: 'text' as const } : c,
      ),
    };
    const all = buildTemplateDocs(input(changed));
    const text = all.slice(all.indexOf('## Import templates'), all.indexOf('## Per-firm'));
    assert.match(text, /\| YearEstablished \| text \|/);
    assert.doesNotMatch(text, /\| YearEstablished \| whole number \|/);
  });

  test('documents a new per-firm list from its data', () => {
    const values: ImportTemplate = {
      name: 'visa-type-entries',
      order: 0,
      description: "The firm's own visa types",
      table: 'petitions',
      parent: 'none',
      columns: [{ name: 'Value', field: 'value', type: 'text', key: true, required: true }],
    };
    const text = buildTemplateDocs({ ...DEFAULT_INPUT, firmListTemplates: [...FIRM_LIST_TEMPLATES, values] });
    assert.match(text, /### `visa-type-entries`/);
    assert.match(text, /caseport kb import visa-type-entries <file\.csv> --firm F/);
    assert.match(text, /\| 1 \| Value \| text \| yes \| yes \| at most 100 characters \|/);
  });

  test('refuses a column type it does not know', () => {
    const odd = withColumn({ name: 'Mystery', type: 'hologram' as Column['type'] });
    assert.throws(() => buildTemplateDocs(input(odd)), /Mystery has the type "hologram".*does not know/);
  });

  test('refuses a column property it does not know', () => {
    const odd = withColumn({ name: 'Mystery', type: 'text', maxLength: 5 } as Column);
    assert.throws(() => buildTemplateDocs(input(odd)), /Mystery has the property "maxLength"/);
  });

  test('refuses a KB list it does not know', () => {
    const odd = withColumn({ name: 'Mystery', type: 'kb', list: 'tarot-cards' as Column['list'] });
    assert.throws(() => buildTemplateDocs(input(odd)), /unknown KB list "tarot-cards"/);
  });
});
