/**
 * The template language of `templates/`, a small subset of mustache: `{{name}}` values,
 * `{{#flag}}...{{/flag}}` kept when the flag is on, `{{^flag}}...{{/flag}}` when it is off. A tag
 * alone on its line takes the line with it. An unknown name is an error, so a template cannot
 * ship with a hole in it.
 */
export type TemplateValues = Readonly<Record<string, string | boolean>>;

const STANDALONE = /^[ \t]*(\{\{[#^/][\w]+\}\})[ \t]*\r?\n/gm;
const SECTION = /\{\{([#^])(\w+)\}\}([\s\S]*?)\{\{\/\2\}\}/g;
const VALUE = /\{\{(\w+)\}\}/g;

export function render(template: string, values: TemplateValues, where = 'template'): string {
  let text = template.replace(STANDALONE, '$1');
  // Sections of different names may nest: resolve innermost first until none is left.
  for (let guard = 0; guard < 20 && SECTION.test(text); guard++) {
    SECTION.lastIndex = 0;
    text = text.replace(SECTION, (_match, kind: string, name: string, body: string) => {
      const on = values[name];
      if (typeof on !== 'boolean') throw new Error(`${where}: section {{${kind}${name}}} names no flag`);
      return (kind === '#') === on ? body : '';
    });
  }
  return text.replace(VALUE, (_match, name: string) => {
    const value = values[name];
    if (typeof value !== 'string') throw new Error(`${where}: {{${name}}} names no value`);
    return value;
  });
}

/** `_gitignore.tmpl` -> `.gitignore`, `src/__id__.ts.tmpl` -> `src/greeter.ts`. */
export function outputName(relative: string, values: TemplateValues): string {
  return relative
    .replace(/\.tmpl$/, '')
    .replace(/__(\w+)__/g, (_m, name: string) => String(values[name] ?? name))
    .replace(/(^|\/)_/g, '$1.');
}
