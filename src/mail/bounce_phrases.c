/*
 * bounce_phrases.c - the phrase table of bounce_class.h: what MTA families write
 * in the human-readable part of a bounce (or in a Diagnostic-Code) and the
 * class it means. Data only; bounce_class.c matches it.
 *
 * Order is priority (the first row that matches anywhere in the text wins):
 * greylisting first (it says "Recipient address rejected" too), then
 * sender-side reasons, because their texts often also say "rejected"
 * or "unavailable" and a blocked sender must never count as a dead address;
 * then the content verdicts, full mailboxes, dead addresses, and the
 * temporary conditions last. Phrases are lower case; the text they are
 * matched in is unfolded (a line break and its indentation are one space).
 *
 * Each row's example is a line as that MTA family writes it (addresses and
 * hosts made up); tests/intake/test_bounce.c classifies every example and
 * checks that this row decides it.
 *
 * TRUST: no input; static data.
 */
#include "mail/bounce_class.h"

#define P BOUNCE_SENDER_POLICY
#define C BOUNCE_REJECTED_CONTENT
#define F BOUNCE_FULL
#define G BOUNCE_GONE
#define T BOUNCE_TEMPORARY

const struct bounce_phrase bounce_phrases[] = {
    /* --- greylisting: a policy, but only for now (with a 4xx code the
     * classifier takes it as temporary) ------------------------------- */
    {"postgrey", "greylist", T,
     "450 4.7.1 <ann@example.net>: Recipient address rejected: Greylisted, see "
     "https://postgrey.schweikert.ch/"},
    /* --- sender-policy: the receiver refused us, not the address ------ */
    {"barracuda", "barracuda reputation", P,
     "554 Service unavailable; Client host [192.0.2.7] blocked using Barracuda Reputation"},
    {"postfix", "blocked using", P,
     "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org"},
    {"spamhaus", "spamhaus", P, "550 Rejected: 192.0.2.7 is listed, see https://www.spamhaus.org/"},
    {"generic", "blacklisted", P, "550 Your IP address 192.0.2.7 is blacklisted"},
    {"generic", "blocklisted", P, "554 Sending address blocklisted by the recipient's server"},
    {"generic", "listed at", P, "550 Mail from 192.0.2.7 refused: listed at bl.spamcop.net"},
    {"generic", "dnsbl", P, "550 5.7.1 Rejected by DNSBL: client 192.0.2.7"},
    {"outlook", "block list", P,
     "550 5.7.1 Unfortunately, messages from [192.0.2.7] weren't sent. Please contact your "
     "Internet service provider since part of their network is on our block list (S3150)."},
    {"outlook", "banned sending ip", P, "550 5.7.606 Access denied, banned sending IP [192.0.2.7]"},
    {"gmail", "reputation", P,
     "421-4.7.0 This message is suspicious due to the very low reputation of the sending IP "
     "address."},
    {"gmail", "does not designate", P,
     "550-5.7.1 The domain example.org does not designate 192.0.2.7 as permitted sender"},
    {"generic", "spf", P,
     "550 5.7.23 The message was rejected because of Sender Policy Framework "
     "violation (SPF fail)"},
    {"generic", "dkim", P, "550 5.7.20 No passing DKIM signature found"},
    {"generic", "dmarc", P, "550 5.7.1 Email rejected per DMARC policy for example.org"},
    {"gmail", "unauthenticated", P,
     "550-5.7.26 This mail is unauthenticated, which poses a security risk to the sender"},
    {"postfix", "reverse dns", P, "550 5.7.25 Client has no reverse DNS (PTR) record"},
    {"generic", "ptr record", P, "554 No PTR record found for 192.0.2.7"},
    {"postfix", "cannot find your hostname", P,
     "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.7]"},
    {"postfix", "client host rejected", P, "554 5.7.1 Client host rejected: Access denied"},
    {"postfix", "helo command rejected", P,
     "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname"},
    {"postfix", "sender address rejected", P,
     "553 5.7.1 <news-bounces@lists.example.org>: Sender address rejected: not owned by user"},
    {"exim", "sender verify failed", P, "550 Sender verify failed"},
    {"postfix", "relay access denied", P, "554 5.7.1 <ann@example.net>: Relay access denied"},
    {"sendmail", "relaying denied", P, "550 5.7.1 <ann@example.net>... Relaying denied"},
    {"generic", "unable to relay", P, "550 5.7.1 Unable to relay for ann@example.net"},
    {"generic", "not permitted to relay", P,
     "550 You are not permitted to relay through this "
     "server"},
    {"exim", "administrative prohibition", P, "550 Administrative prohibition"},
    {"mimecast", "envelope blocked", P,
     "550 Envelope blocked - User Entry - https://community."
     "mimecast.com/docs/DOC-1369#550"},
    {"generic", "rate limit", P, "450 4.7.1 Rate limit exceeded for 192.0.2.7, try again later"},
    {"gmail", "unusual rate", P,
     "421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating from "
     "your IP address."},
    {"generic", "too many connections", P, "421 Too many connections from 192.0.2.7"},
    {"yahoo", "temporarily deferred due to", P,
     "421 4.7.0 [TSS04] Messages from 192.0.2.7 temporarily deferred due to unexpected volume "
     "or user complaints"},
    {"yahoo", "permanently deferred", P,
     "553 5.7.2 [TSS09] All messages from 192.0.2.7 will be permanently deferred"},
    {"aol", "rtr:bb", P, "554 RTR:BB - Connecting IP address has been blocked"},
    {"generic", "authentication required", P, "530 5.7.0 Authentication required"},
    {"generic", "policy violation", P, "550 5.7.1 Message rejected: policy violation"},
    {"generic", "local policy", P, "550 5.7.1 Message refused by local policy"},
    {"aol", "not accepting mail from", P,
     "Your mail to the following recipients could not be delivered because they are not "
     "accepting mail from news@lists.example.org"},
    /* --- rejected-content: the receiver refused this message ---------- */
    {"gmail", "unsolicited", C,
     "550-5.7.1 Our system has detected that this message is likely unsolicited mail."},
    {"generic", "looks like spam", C, "554 5.7.1 Message rejected: it looks like spam"},
    {"generic", "considered spam", C, "550 Message considered spam by the content filter"},
    {"generic", "identified as spam", C, "554 5.7.1 Your message was identified as SPAM"},
    {"generic", "detected as spam", C, "550 High probability of spam: detected as spam"},
    {"generic", "spam score", C, "550 5.7.1 Rejected: spam score 9.8 exceeds the threshold"},
    {"yahoo", "message not allowed", C,
     "554 Message not allowed - [PH01] Email not accepted for "
     "policy reasons"},
    {"generic", "content rejected", C, "554 5.6.0 Message content rejected"},
    {"generic", "content filter", C, "550 5.7.1 Blocked by the content filter"},
    {"gmail", "security issue", C,
     "552-5.7.0 This message was blocked because its content presents a potential security "
     "issue."},
    {"generic", "virus found", C, "554 5.7.1 Message rejected: virus found (Eicar-Test-Signature)"},
    {"clamav", "contains a virus", C, "550 This message contains a virus (Eicar-Signature)"},
    {"generic", "virus detected", C, "554 Virus detected: Win.Test.EICAR_HDB-1"},
    {"generic", "malware", C, "550 5.7.1 Message contains malware"},
    {"generic", "banned attachment", C, "554 Rejected: banned attachment type (.exe)"},
    {"generic", "message too large", C, "552 5.3.4 Message too large"},
    {"generic", "message is too large", C,
     "552 5.3.4 Your message is too large for this "
     "mailbox"},
    {"postfix", "message size exceeds", C, "552 5.3.4 Message size exceeds fixed limit"},
    {"ntmail", "maximum inbound message size", C,
     "Status: 553 Exceeded maximum inbound message size"},
    {"exim", "message size limit", C, "552 Message size limit exceeded"},
    {"btconnect", "resent-from field", C, "554 No Resent-From field given"},
    /* --- full --------------------------------------------------------- */
    {"generic", "mailbox full", F, "552 5.2.2 Mailbox full"},
    {"generic", "mailbox is full", F,
     "452 4.2.2 The email account that you tried to reach is "
     "over quota: its mailbox is full"},
    {"sendmail", "exceeded storage allocation", F,
     "552 5.2.2 <ann@example.net>... Mailbox exceeded storage allocation"},
    {"exchange", "mailbox size limit", F,
     "552 5.2.2 STOREDRV.Deliver; mailbox size limit "
     "exceeded"},
    {"generic", "inbox is full", F, "550 Inbox is full"},
    {"yahoo", "over quota", F, "552 1 Requested mail action aborted, user is over quota"},
    {"generic", "quota", F, "Mail quota exceeded"},
    {"generic", "insufficient storage", F, "552 Insufficient storage for ann"},
    {"generic", "full mailbox", F,
     "Delivery of email to this address has been postponed due to a full mailbox."},
    {"godaddy", "mailfolder is full", F,
     "The e-mail message could not be delivered because the user's mailfolder is full."},
    {"jetmail", "space not enough", F, "ErrMsg=mail box space not enough, account=ann"},
    /* --- gone: the address does not exist any more -------------------- */
    {"generic", "user unknown", G,
     "550 5.1.1 <ann@example.net>: Recipient address rejected: "
     "User unknown in local recipient table"},
    {"generic", "unknown user", G, "550 unknown user <ann@example.net>"},
    {"generic", "no such user", G, "550 No such user here"},
    {"generic", "unknown recipient", G,
     "MSEXCH:IMS:Example:SITE:SERVER 0 (000C05A6) Unknown "
     "Recipient"},
    {"generic", "recipient unknown", G, "550 Recipient unknown"},
    {"generic", "no such recipient", G, "550 5.1.1 No such recipient"},
    {"exchange", "recipient not found", G,
     "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"},
    {"generic", "user not found", G, "550 User not found"},
    {"gmail", "address not found", G,
     "Address not found: your message wasn't delivered because the address couldn't be found"},
    {"generic", "mailbox not found", G, "550 Requested action not taken: mailbox not found"},
    {"generic", "mailbox unavailable", G,
     "550 5.5.0 Requested action not taken: mailbox "
     "unavailable"},
    {"generic", "no mailbox", G, "Sorry, no mailbox here by that name. (#5.1.1)"},
    {"gmail", "does not exist", G,
     "550-5.1.1 The email account that you tried to reach does not exist."},
    {"generic", "doesn't exist", G, "550 That mailbox doesn't exist"},
    {"yahoo", "doesn't have a", G,
     "554 delivery error: dd This user doesn't have a yahoo.com account (ann@yahoo.com)"},
    {"generic", "invalid recipient", G, "550 5.1.1 Invalid recipient <ann@example.net>"},
    {"generic", "invalid mailbox", G, "550 Invalid mailbox: ann@example.net"},
    {"generic", "invalid address", G, "553 5.1.3 Invalid address"},
    {"generic", "bad destination mailbox address", G,
     "Action: failed (Bad destination mailbox address)"},
    {"exim", "unrouteable address", G, "Unrouteable address"},
    {"exim", "unknown local part", G, "550 Unknown local part ann in <ann@example.net>"},
    {"exim", "illegal user", G, "553 5.1.1 unknown or illegal user: ann@example.net"},
    {"lotus", "not listed in", G, "ann@example.net is not listed in Domino Directory"},
    {"generic", "no longer in use", G, "550 5.1.1 This address is no longer in use"},
    {"generic", "no longer valid", G, "550 5.1.1 The address ann@example.net is no longer valid"},
    {"generic", "no longer active", G, "550 This mailbox is no longer active"},
    {"generic", "account has been disabled", G,
     "550 5.2.1 The email account that you tried to "
     "reach is disabled: account has been disabled"},
    {"generic", "account is disabled", G, "550 5.2.1 This account is disabled"},
    {"generic", "mailbox disabled", G, "550 5.2.1 Mailbox disabled, not accepting messages"},
    {"generic", "account disabled", G,
     "554 30 Sorry, your message to ann@yahoo.com cannot be "
     "delivered. This account disabled"},
    {"generic", "deactivated", G, "550 5.2.1 This mailbox has been deactivated"},
    {"generic", "mailbox is inactive", G, "550 5.2.1 Mailbox is inactive"},
    /* Postfix's temporary DNS failure, returned once the queue lifetime
     * ran out: before "host not found" */
    {"postfix", "not found, try again", T,
     "Name service error for domain example.net: Host not found, try again"},
    {"postfix", "host not found", G,
     "Host or domain name not found. Name service error for name=example.invalid type=A: Host "
     "not found"},
    {"generic", "domain not found", G, "550 5.1.2 Domain not found"},
    {"generic", "no such domain", G, "550 5.1.2 No such domain"},
    {"generic", "does not accept mail", G,
     "556 5.1.10 Recipient address has null MX: the "
     "domain does not accept mail"},
    {"generic", "address rejected", G, "550 5.1.0 Address rejected"},
    {"generic", "user not known", G, "User not known"},
    {"generic", "not a valid user", G,
     "One or more of the recipients are not a valid user of the "
     "system."},
    {"exchange", "name is not recognized", G, "The recipient name is not recognized"},
    {"generic", "unknown host", G, "ann@example.invalid ... unknown host"},
    {"smtp32", "invalid final delivery userid", G,
     "Invalid final delivery userid: ann@example.net"},
    {"french", "n'existe pas", G, "L'adresse de messagerie ci-dessus n'existe pas."},
    {"demon", "not been collected", G, "failed because it has not been collected after 30 days"},
    {"llnl", "did not exactly match", G,
     "The address to which your message was addressed, "
     "ann@example.gov, did not exactly match an LLNL email "
     "address."},
    {"phquery", "final email delivery point", G,
     "Does not have a final email delivery point, please contact this person by alternate "
     "means."},
    {"phquery", "no matches to nameserver query", G, "ann No matches to nameserver query"},
    /* --- temporary ---------------------------------------------------- */
    {"qmail", "not going to try again", T,
     "I'm not going to try again; this message has been in the queue too long."},
    {"exim", "retry timeout exceeded", T, "retry timeout exceeded"},
    {"sendmail", "could not be delivered for", T, "Message could not be delivered for 5 days"},
    {"x400", "maximum-time-expired", T,
     "Diagnostic-Code: Reason 1 (Unable-To-Transfer); Diagnostic 5 (Maximum-Time-Expired)"},
    {"generic", "delivery time expired", T, "Delivery time expired"},
    {"generic", "try again later", T, "451 4.3.0 Temporary local problem, try again later"},
    {"generic", "temporar", T, "451 4.3.0 Temporary failure"},
    {"generic", "will be retried", T,
     "Delivery to the following recipients has been delayed and "
     "will be retried"},
    {"generic", "still trying", T, "The mail system is still trying to deliver your message"},
    {"generic", "has not yet been delivered", T,
     "Your message has not yet been delivered to the following recipients"},
    {"generic", "delayed", T, "Message delayed"},
    {"generic", "timed out", T, "Connection timed out"},
    {"generic", "connection refused", T,
     "connect to mx.example.net[192.0.2.9]:25: Connection "
     "refused"},
    {"interscan", "maximum delivery attempts", T,
     "Reason: Exceeded Maximum Delivery Attempts. Verify that the recipient address is correct."},
    {"netscape", "allowed queue period", T,
     "the destination computer was not reachable within the allowed queue period."},
    {"exim", "delivery attempts will continue", T,
     "No action is required on your part. Delivery attempts will continue for some time"},
    {"generic", "aborted after", T,
     "Delivery to the following recipients was aborted after 5.0 "
     "hour(s)"},
    {"smtp32", "delivery failed", T, "Delivery failed 20 attempts: ann@example.net"},
};

const size_t bounce_phrases_count = sizeof bounce_phrases / sizeof bounce_phrases[0];
