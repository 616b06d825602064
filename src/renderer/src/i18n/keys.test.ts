/// <reference types="vite/client" />
// Every text key the UI asks for exists in ru.ts (i18next would show the bare key otherwise):
// literal keys in full (plural keys by their _one/_other forms), keys built from a template by
// the part before the first ${…}.
import { describe, expect, it } from 'vitest'
import { ru } from './ru'

const sources = import.meta.glob<string>('../**/*.tsx', { query: '?raw', import: 'default', eager: true })

type Tree = { readonly [key: string]: string | Tree }

function lookup(path: string[]): string | Tree | undefined {
  let node: string | Tree | undefined = ru as unknown as Tree
  for (const p of path) node = typeof node === 'object' ? node[p] : undefined
  return node
}

function hasText(key: string): boolean {
  const path = key.split('.')
  if (typeof lookup(path) === 'string') return true
  const parent = lookup(path.slice(0, -1))
  const last = path[path.length - 1]
  return typeof parent === 'object' && typeof parent[`${last}_one`] === 'string' && typeof parent[`${last}_other`] === 'string'
}

describe('UI text keys', () => {
  const literal = new Set<string>()
  const templated = new Set<string>()
  for (const text of Object.values(sources)) {
    for (const m of text.matchAll(/\bt\(\s*'([A-Za-z0-9_.]+)'/g)) if (m[1]) literal.add(m[1])
    for (const m of text.matchAll(/\bt\(\s*`([A-Za-z0-9_.]+)\.\$\{/g)) if (m[1]) templated.add(m[1])
  }

  it('finds the keys in the sources', () => {
    expect(literal.size).toBeGreaterThan(100)
    expect(templated.size).toBeGreaterThan(10)
  })

  it('has a Russian text for every literal key', () => {
    expect([...literal].filter((k) => !hasText(k))).toEqual([])
  })

  it('has a group of texts for every key built from a template', () => {
    expect([...templated].filter((k) => typeof lookup(k.split('.')) !== 'object')).toEqual([])
  })
})
