// Bundles are assembled as text around the stored resource JSON: re-parsing and re-serialising
// every resource of a page would cost more than everything else a history pull does.
import type { HistoryRow } from './history'

export interface BundleLink {
  relation: string
  url: string
}

export const etag = (version: number) => `W/"${version}"`

/** W/"3" or "3" → 3; anything else is not a version of ours. */
export function parseEtag(text: string): number | null {
  const m = /^(?:W\/)?"(\d{1,9})"$/.exec(text.trim())
  return m ? Number(m[1]) : null
}

function head(type: string, links: BundleLink[], total: number | null): string {
  return `{"resourceType":"Bundle","type":${JSON.stringify(type)}${total === null ? '' : `,"total":${total}`},"link":${JSON.stringify(links)}`
}

export function searchBundle(base: string, type: string, rows: Array<{ id: string; body: string }>, links: BundleLink[], total: number | null): string {
  const entries = rows.map((r) => `{"fullUrl":${JSON.stringify(`${base}/${type}/${r.id}`)},"resource":${r.body},"search":{"mode":"match"}}`)
  return `${head('searchset', links, total)},"entry":[${entries.join(',')}]}`
}

export function historyBundle(base: string, rows: HistoryRow[], links: BundleLink[]): string {
  const entries = rows.map((r) => {
    const fullUrl = JSON.stringify(`${base}/${r.type}/${r.id}`)
    const url = JSON.stringify(r.method === 'POST' ? r.type : `${r.type}/${r.id}`)
    const status = r.deleted ? '204' : r.method === 'POST' ? '201' : '200'
    const response = `{"status":"${status}","etag":${JSON.stringify(etag(r.version))},"lastModified":"${r.lastUpdated.toISOString()}"}`
    return `{"fullUrl":${fullUrl}${r.body === null ? '' : `,"resource":${r.body}`},"request":{"method":"${r.method}","url":${url}},"response":${response}}`
  })
  return `${head('history', links, null)},"entry":[${entries.join(',')}]}`
}
