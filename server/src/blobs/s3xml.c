/* The few fields the S3-compatible store's XML answers are read for (keys and sizes of a
 * listing, an upload id, an ETag, an error code), parsed by libxml2 and read element by
 * element in document order. The parser never touches the network and keeps its default
 * limits against entity expansion, so a hostile or broken store's answer costs a bounded parse
 * and reads as "no such field". */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <string.h>

#include "blobs/s3.h"

#define S3_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

void s3_xml_init(void) { xmlInitParser(); }

int s3_xml_open(struct s3_xml *x, const char *text)
{
    size_t n = text ? strlen(text) : 0;

    x->at = NULL;
    x->doc = n && n <= INT32_MAX ? xmlReadMemory(text, (int)n, NULL, NULL, S3_XML_OPTIONS) : NULL;
    return x->doc ? 0 : -1;
}

void s3_xml_close(struct s3_xml *x)
{
    if (x->doc)
        xmlFreeDoc(x->doc);
    x->doc = NULL;
    x->at = NULL;
}

/* The node after n in document order: its first child, else the next sibling of it or of the
 * nearest ancestor that has one. */
static xmlNodePtr s3_xml_after(xmlNodePtr n)
{
    if (n->children)
        return n->children;
    while (n && !n->next)
        n = n->parent;
    return n ? n->next : NULL;
}

int s3_xml_next(struct s3_xml *x, const char *tag, char *out, size_t outlen)
{
    xmlNodePtr n;

    if (!x->doc)
        return -1;
    for (n = x->at ? s3_xml_after(x->at) : xmlDocGetRootElement(x->doc); n; n = s3_xml_after(n)) {
        if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, tag)) {
            xmlChar *text = xmlNodeGetContent(n);
            snprintf(out, outlen, "%s", text ? (const char *)text : "");
            xmlFree(text);
            x->at = n;
            return 0;
        }
    }
    return -1;
}

int s3_xml_find(const char *text, const char *tag, char *out, size_t outlen)
{
    struct s3_xml x;
    int rc;

    if (s3_xml_open(&x, text))
        return -1;
    rc = s3_xml_next(&x, tag, out, outlen);
    s3_xml_close(&x);
    return rc;
}
