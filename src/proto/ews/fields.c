/* The item fields (MS-OXWSCORE 2.2.4.24 ItemType, MS-OXWSMSG 2.2.4.1
 * MessageType): which FieldURI names which MAPI properties, how the value
 * is written, and where it sits in the schema's sequence (the table is in
 * that order: items' fields first, then the message's). */
#include <string.h>

#include "mapi/tags.h"
#include "proto/ews/items.h"

#define D EWS_FF_DEFAULT
#define F EWS_FF_FIND
#define A EWS_FF_ALL
#define M EWS_FF_MSG
#define RO EWS_FF_RO
#define O EWS_FF_OPEN

const struct ews_field ews_item_fields[] = {
	{"item:MimeContent", "t:MimeContent", EWS_FK_MIME, 0, 0, O | RO},
	{"item:ItemId", "t:ItemId", EWS_FK_ITEMID, 0, 0, D | F | A | RO},
	{"item:ParentFolderId", "t:ParentFolderId", EWS_FK_PARENT, 0, 0, D | F | A | RO},
	{"item:ItemClass", "t:ItemClass", EWS_FK_STRING, PR_MESSAGE_CLASS, 0, D | F | A},
	{"item:Subject", "t:Subject", EWS_FK_STRING, PR_SUBJECT, 0, D | F | A},
	{"item:Sensitivity", "t:Sensitivity", EWS_FK_SENSITIVITY, PR_SENSITIVITY, 0, D | F | A},
	{"item:Body", "t:Body", EWS_FK_BODY, 0, 0, D | A | O},
	{"item:Attachments", "t:Attachments", EWS_FK_ATTACHMENTS, 0, 0, D | A | O | RO},
	{"item:DateTimeReceived", "t:DateTimeReceived", EWS_FK_TIME, PR_MESSAGE_DELIVERY_TIME, 0,
		D | F | A | RO},
	{"item:Size", "t:Size", EWS_FK_INT, PR_MESSAGE_SIZE, 0, D | F | A | RO},
	{"item:Categories", "t:Categories", EWS_FK_CATEGORIES, 0, EWS_NP_KEYWORDS, D | F | A},
	{"item:Importance", "t:Importance", EWS_FK_IMPORTANCE, PR_IMPORTANCE, 0, D | F | A},
	{"item:InReplyTo", "t:InReplyTo", EWS_FK_STRING, PR_IN_REPLY_TO_ID, 0, A},
	{"item:IsSubmitted", "t:IsSubmitted", EWS_FK_MSGFLAG, PR_MESSAGE_FLAGS, MSGFLAG_SUBMIT,
		D | F | A | RO},
	{"item:IsDraft", "t:IsDraft", EWS_FK_MSGFLAG, PR_MESSAGE_FLAGS, MSGFLAG_UNSENT,
		D | F | A | RO},
	{"item:IsFromMe", "t:IsFromMe", EWS_FK_MSGFLAG, PR_MESSAGE_FLAGS, MSGFLAG_FROMME,
		D | F | A | RO},
	{"item:IsResend", "t:IsResend", EWS_FK_MSGFLAG, PR_MESSAGE_FLAGS, MSGFLAG_RESEND,
		D | F | A | RO},
	{"item:IsUnmodified", "t:IsUnmodified", EWS_FK_MSGFLAG, PR_MESSAGE_FLAGS,
		MSGFLAG_UNMODIFIED, D | F | A | RO},
	{"item:InternetMessageHeaders", "t:InternetMessageHeaders", EWS_FK_HEADERS,
		PR_TRANSPORT_MESSAGE_HEADERS, 0, A | O | RO},
	{"item:DateTimeSent", "t:DateTimeSent", EWS_FK_TIME, PR_CLIENT_SUBMIT_TIME, 0,
		D | F | A | RO},
	{"item:DateTimeCreated", "t:DateTimeCreated", EWS_FK_TIME, PR_CREATION_TIME, 0,
		D | F | A | RO},
	{"item:ReminderDueBy", "t:ReminderDueBy", EWS_FK_TIME, 0, EWS_NP_REMINDER_TIME, A},
	{"item:ReminderIsSet", "t:ReminderIsSet", EWS_FK_BOOL, 0, EWS_NP_REMINDER_SET, D | F | A},
	{"item:ReminderMinutesBeforeStart", "t:ReminderMinutesBeforeStart", EWS_FK_INT, 0,
		EWS_NP_REMINDER_DELTA, A},
	{"item:DisplayCc", "t:DisplayCc", EWS_FK_STRING, PR_DISPLAY_CC, 0, D | F | A | RO},
	{"item:DisplayTo", "t:DisplayTo", EWS_FK_STRING, PR_DISPLAY_TO, 0, D | F | A | RO},
	{"item:HasAttachments", "t:HasAttachments", EWS_FK_BOOL, PR_HASATTACH, 0, D | F | A | RO},
	/* where the extended properties go in the sequence */
	{NULL, "t:ExtendedProperty", EWS_FK_EXTENDED, 0, 0, 0},
	{"item:LastModifiedName", "t:LastModifiedName", EWS_FK_STRING, PR_LAST_MODIFIER_NAME, 0,
		A | RO},
	{"item:LastModifiedTime", "t:LastModifiedTime", EWS_FK_TIME, PR_LAST_MODIFICATION_TIME, 0,
		D | F | A | RO},
	{"item:IsAssociated", "t:IsAssociated", EWS_FK_MSGFLAG, PR_MESSAGE_FLAGS,
		MSGFLAG_ASSOCIATED, A | RO},
	{"item:ConversationId", "t:ConversationId", EWS_FK_CONVERSATION_ID, PR_CONVERSATION_ID, 0,
		D | F | A | RO},
	{"item:Flag", "t:Flag", EWS_FK_FLAG, PR_FLAG_STATUS, 0, A},
	{"item:InstanceKey", "t:InstanceKey", EWS_FK_BINARY, PR_INSTANCE_KEY, 0, A | RO},
	{"item:TextBody", "t:TextBody", EWS_FK_TEXTBODY, 0, 0, O | RO},
	{"message:Sender", "t:Sender", EWS_FK_MAILBOX, 0, EWS_MBX_SENDER, D | F | A | M},
	{"message:ToRecipients", "t:ToRecipients", EWS_FK_RECIPIENTS, 0, 1, D | A | M | O},
	{"message:CcRecipients", "t:CcRecipients", EWS_FK_RECIPIENTS, 0, 2, D | A | M | O},
	{"message:BccRecipients", "t:BccRecipients", EWS_FK_RECIPIENTS, 0, 3, D | A | M | O},
	{"message:IsReadReceiptRequested", "t:IsReadReceiptRequested", EWS_FK_BOOL,
		PR_READ_RECEIPT_REQUESTED, 0, D | F | A | M},
	{"message:IsDeliveryReceiptRequested", "t:IsDeliveryReceiptRequested", EWS_FK_BOOL,
		PR_ORIGINATOR_DELIVERY_REPORT_REQUESTED, 0, D | F | A | M},
	{"message:ConversationIndex", "t:ConversationIndex", EWS_FK_BINARY, PR_CONVERSATION_INDEX, 0,
		A | M | RO},
	{"message:ConversationTopic", "t:ConversationTopic", EWS_FK_STRING, PR_CONVERSATION_TOPIC,
		0, D | F | A | M | RO},
	{"message:From", "t:From", EWS_FK_MAILBOX, 0, EWS_MBX_FROM, D | F | A | M},
	{"message:InternetMessageId", "t:InternetMessageId", EWS_FK_STRING, PR_INTERNET_MESSAGE_ID,
		0, D | F | A | M},
	{"message:IsRead", "t:IsRead", EWS_FK_MSGFLAG, PR_MESSAGE_FLAGS, MSGFLAG_READ,
		D | F | A | M},
	{"message:IsResponseRequested", "t:IsResponseRequested", EWS_FK_BOOL, PR_RESPONSE_REQUESTED,
		0, A | M},
	{"message:References", "t:References", EWS_FK_STRING, PR_INTERNET_REFERENCES, 0, A | M},
	{"message:ReplyTo", "t:ReplyTo", EWS_FK_REPLY_TO, PR_REPLY_RECIPIENT_ENTRIES, 0, A | M},
	{"message:ReceivedBy", "t:ReceivedBy", EWS_FK_MAILBOX, 0, EWS_MBX_RECEIVED_BY,
		A | M | RO},
	{"message:ReceivedRepresenting", "t:ReceivedRepresenting", EWS_FK_MAILBOX, 0,
		EWS_MBX_RECEIVED_REPRESENTING, A | M | RO},
};

const unsigned ews_n_item_fields = sizeof(ews_item_fields) / sizeof(ews_item_fields[0]);

/* The tags of a single mailbox field, indexed by enum ews_mbx. */
const struct ews_mbx_tags ews_mbx_tags[EWS_MBX_COUNT] = {
	[EWS_MBX_SENDER] = {PR_SENDER_NAME, PR_SENDER_EMAIL_ADDRESS, PR_SENDER_ADDRTYPE,
		PR_SENDER_SMTP_ADDRESS, PR_SENDER_ENTRYID},
	[EWS_MBX_FROM] = {PR_SENT_REPRESENTING_NAME, PR_SENT_REPRESENTING_EMAIL_ADDRESS,
		PR_SENT_REPRESENTING_ADDRTYPE, PR_SENT_REPRESENTING_SMTP_ADDRESS,
		PR_SENT_REPRESENTING_ENTRYID},
	[EWS_MBX_RECEIVED_BY] = {PR_RECEIVED_BY_NAME, PR_RECEIVED_BY_EMAIL_ADDRESS,
		PR_RECEIVED_BY_ADDRTYPE, PR_RECEIVED_BY_SMTP_ADDRESS, PR_RECEIVED_BY_ENTRYID},
	[EWS_MBX_RECEIVED_REPRESENTING] = {PR_RCVD_REPRESENTING_NAME,
		PR_RCVD_REPRESENTING_EMAIL_ADDRESS, PR_RCVD_REPRESENTING_ADDRTYPE,
		PR_RCVD_REPRESENTING_SMTP_ADDRESS, PR_RCVD_REPRESENTING_ENTRYID},
};

int ews_field_find(const char *uri)
{
	for (unsigned i = 0; i < ews_n_item_fields; i++)
		if (ews_item_fields[i].uri != NULL && strcmp(ews_item_fields[i].uri, uri) == 0)
			return (int)i;
	return -1;
}
