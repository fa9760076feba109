/*
 * smpp_text.h - text on the wire: UTF-8 inside the gateway; GSM 03.38 (unpacked, with the
 * extension table) or UCS-2 big-endian on the wire; UDH concatenation for long SMS.
 * Included by smpp.h; declarations are added by the text module.
 */
#ifndef SMPP_TEXT_H
#define SMPP_TEXT_H
#endif
