// @peculiar/x509 through one door: it needs a Reflect metadata polyfill (tsyringe) loaded
// before it, and it must use Node's webcrypto. Import x509 from here, never directly.
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

export * from '@peculiar/x509'
