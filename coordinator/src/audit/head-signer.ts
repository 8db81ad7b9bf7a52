/** The coordinator's signer of audit heads (the same Ed25519 key that signs model versions). */
import { signAuditHead, type AuditHeadPayload, type Identity } from '@twinfed/shared';

/** A synchronous signer for {@link PublishVersionInput.signAuditHead} (it runs inside the publish transaction). */
export function auditHeadSigner(identity: Identity): (head: AuditHeadPayload) => string {
  return (head) => signAuditHead(head, identity.sign.secretKey);
}
