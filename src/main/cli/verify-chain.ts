// Checks that a certificate was issued by one of the CA certificates in a PEM bundle.
import { X509Certificate } from '../core/crypto/x509'

export async function verifyChain(certificateDer: Uint8Array, caBundlePem: string): Promise<boolean> {
  const cert = new X509Certificate(certificateDer)
  const cas = caBundlePem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  for (const pem of cas) {
    const ca = new X509Certificate(pem)
    if (ca.subject !== cert.issuer) continue
    if (await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })) return true
  }
  return false
}
