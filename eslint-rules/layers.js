// The house's floors, kept by lint. Every module of src/ sits on a floor; a file may import from its own
// floor or any floor below it, never from one above (an arrow that runs back up). Separately, whole folders
// may be closed to others: src/ never reaches into test/ or bench/, bench/ never into test/.
//
// Options (one object):
//   floors:    [{name, files: [pattern, ...]}, ...] from the top floor down. A file's floor is the first floor
//              with a pattern that matches it, so a catch-all such as 'src/' belongs last.
//   forbidden: [{from: pattern, to: [pattern, ...]}, ...]: files matching `from` may not import files matching
//              any of `to`.
// A pattern is a path from the repository root: 'src/store/' (ending in '/') is that folder and everything
// under it; anything else is one file, with or without its extension ('src/flags.ts' matches an import of
// './flags.js'). Only relative imports are checked (packages have no floor). Type-only imports count: a type
// from a floor above ties a lower floor to it just the same. Same-floor circles are left to import-x/no-cycle.
import path from 'node:path'
import {fileURLToPath} from 'node:url'

// The repository root: this file lives in <root>/eslint-rules/.
const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

const EXTENSION = /\.(d\.)?[cm]?[jt]sx?$/

/** A path from the repository root, with forward slashes and no extension; null when outside the root. */
export function fromRoot(absolute) {
  const relative = path.relative(ROOT, absolute).split(path.sep).join('/')
  if (relative.startsWith('../') || path.isAbsolute(relative)) return null
  return relative.replace(EXTENSION, '')
}

/** Whether a root-relative path (no extension) matches a pattern. */
export function matches(file, pattern) {
  if (pattern.endsWith('/')) return file.startsWith(pattern) || file + '/' === pattern
  return file === pattern.replace(EXTENSION, '')
}

/** The index of a file's floor (0 is the top), or -1 when it is on none. */
export function floorOf(file, floors) {
  return floors.findIndex((floor) => floor.files.some((pattern) => matches(file, pattern)))
}

const patternList = {type: 'array', items: {type: 'string', minLength: 1}}

export default {
  meta: {
    type: 'problem',
    docs: {description: 'Imports follow the floors of the house: own floor or below, and no reaching into closed folders.'},
    schema: [
      {
        type: 'object',
        properties: {
          floors: {
            type: 'array',
            items: {
              type: 'object',
              properties: {name: {type: 'string'}, files: patternList},
              required: ['name', 'files'],
              additionalProperties: false,
            },
          },
          forbidden: {
            type: 'array',
            items: {
              type: 'object',
              properties: {from: {type: 'string', minLength: 1}, to: patternList},
              required: ['from', 'to'],
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      upward:
        "Arrow back up: {{file}} (floor '{{floor}}') imports '{{specifier}}' from floor '{{targetFloor}}', above it. " +
        'A file may import only from its own floor or below.',
      forbidden: "{{file}} imports '{{specifier}}': files in {{from}} may not import from {{to}}.",
    },
  },

  create(context) {
    const {floors = [], forbidden = []} = context.options[0] ?? {}
    const filename = context.physicalFilename ?? context.filename
    const file = fromRoot(filename)
    if (file === null) return {}
    const shown = path.relative(ROOT, filename).split(path.sep).join('/')
    const floor = floorOf(file, floors)
    const closedTo = forbidden.filter((rule) => matches(file, rule.from))
    if (floor < 0 && closedTo.length === 0) return {}

    function check(node, specifier) {
      if (typeof specifier !== 'string' || !(specifier.startsWith('./') || specifier.startsWith('../'))) return
      const target = fromRoot(path.resolve(path.dirname(filename), specifier))
      if (target === null) return
      for (const rule of closedTo) {
        const to = rule.to.find((pattern) => matches(target, pattern))
        if (to !== undefined) {
          context.report({node, messageId: 'forbidden', data: {file: shown, specifier, from: rule.from, to}})
          return
        }
      }
      if (floor < 0) return
      const targetFloor = floorOf(target, floors)
      if (targetFloor >= 0 && targetFloor < floor) {
        context.report({
          node,
          messageId: 'upward',
          data: {file: shown, specifier, floor: floors[floor].name, targetFloor: floors[targetFloor].name},
        })
      }
    }

    function literal(node) {
      if (node?.type === 'Literal') return node.value
      if (node?.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0].value.cooked
      return undefined
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => check(node.source, literal(node.source)),
      // `import('../x.js').Type` in a type position (typescript-eslint's AST).
      TSImportType: (node) => {
        const argument = node.source ?? node.argument
        check(argument, literal(argument?.type === 'TSLiteralType' ? argument.literal : argument))
      },
    }
  },
}
