//! XML 1.0 + Namespaces parsing with hard limits, on top of `roxmltree` (see
//! `docs/decisions/0003-saml-xml-parser.md`).
//!
//! Rules enforced before anything else looks at a document:
//! - UTF-8 only (SAML Bindings §3.5.4 and §3.4.4 carry UTF-8); an `encoding` declaration naming
//!   anything else is refused rather than reinterpreted (parser-differential defence).
//! - No document type declaration at all, hence no entity declarations, no external entities
//!   (XXE, e.g. CVE-2016-10149 in pysaml2) and no entity expansion (billion laughs). SAML messages never
//!   need a DTD (SAML Core §1.3 is schema-based).
//! - Size, depth, attributes-per-element and node-count limits ([`Limits`]).

use roxmltree::{Document, Node, ParsingOptions};

use crate::error::{Error, Result};

/// Namespace of SAML 2.0 assertions (SAML Core §2).
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// Namespace of SAML 2.0 protocol messages (SAML Core §3).
pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// Namespace of SAML 2.0 metadata (SAML Metadata §2).
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig namespace (XML-DSig 1.1 §4).
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML-DSig 1.1 additions namespace (XML-DSig 1.1 §4.5.2 `DEREncodedKeyValue`, ECKeyValue).
pub const NS_DSIG11: &str = "http://www.w3.org/2009/xmldsig11#";
/// XML Encryption namespace (XML Encryption 1.1 §3).
pub const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
/// The `xml:` namespace.
pub const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";

/// Parser limits; every default is generous for real SAML traffic and small enough that a
/// hostile document costs bounded memory and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Maximum document size in bytes (after base64/DEFLATE decoding). Default 1 MiB.
    pub max_bytes: usize,
    /// Maximum element nesting depth. Default 64.
    pub max_depth: usize,
    /// Maximum attributes on one element (namespace declarations included). Default 64.
    pub max_attributes: usize,
    /// Maximum number of nodes (elements, texts, comments, PIs, attributes). Default 100 000.
    pub max_nodes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 20,
            max_depth: 64,
            max_attributes: 64,
            max_nodes: 100_000,
        }
    }
}

/// Checks the bytes are UTF-8 (a leading BOM is dropped) and within the size limit.
pub fn as_utf8<'a>(input: &'a [u8], limits: &Limits) -> Result<&'a str> {
    if input.len() > limits.max_bytes {
        return Err(Error::TooLarge(limits.max_bytes));
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    std::str::from_utf8(input).map_err(|_| Error::MalformedXml("not UTF-8".into()))
}

/// Parses `input` under `limits`, refusing DTDs and non-UTF-8 encoding declarations.
pub fn parse<'a>(input: &'a str, limits: &Limits) -> Result<Document<'a>> {
    if input.len() > limits.max_bytes {
        return Err(Error::TooLarge(limits.max_bytes));
    }
    check_declaration(input)?;
    // Cheap pre-check so a DTD never reaches the parser, whatever it contains.
    if contains_doctype(input) {
        return Err(Error::DtdForbidden);
    }
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_nodes,
    };
    let doc = Document::parse_with_options(input, opts).map_err(|e| match e {
        roxmltree::Error::DtdDetected => Error::DtdForbidden,
        roxmltree::Error::NodesLimitReached => Error::TooManyNodes(limits.max_nodes),
        roxmltree::Error::EntityReferenceLoop(_) | roxmltree::Error::UnknownEntityReference(..) => {
            Error::DtdForbidden
        }
        other => Error::MalformedXml(other.to_string()),
    })?;
    check_shape(&doc, limits)?;
    Ok(doc)
}

fn contains_doctype(input: &str) -> bool {
    // `<!DOCTYPE` is case-sensitive in XML; anything else is a well-formedness error anyway.
    input.contains("<!DOCTYPE") || input.contains("<!ENTITY")
}

fn check_declaration(input: &str) -> Result<()> {
    let Some(rest) = input.strip_prefix("<?xml") else {
        return Ok(());
    };
    let end = rest.find("?>").unwrap_or(rest.len());
    let decl = rest.get(..end).unwrap_or("");
    if let Some(pos) = decl.find("encoding") {
        let value = decl.get(pos + "encoding".len()..).unwrap_or("");
        let value = value.trim_start().trim_start_matches('=').trim_start();
        let quote = value.chars().next();
        let name = match quote {
            Some(q @ ('"' | '\'')) => value.get(1..).and_then(|v| v.split(q).next()).unwrap_or(""),
            _ => "",
        };
        let lower = name.to_ascii_lowercase();
        if lower != "utf-8" && lower != "utf8" && lower != "us-ascii" {
            return Err(Error::MalformedXml(format!(
                "unsupported encoding {name:?}"
            )));
        }
    }
    Ok(())
}

fn check_shape(doc: &Document<'_>, limits: &Limits) -> Result<()> {
    // Node ids are assigned in document order, so a parent's depth is known before its children.
    let mut depth: Vec<u16> = Vec::new();
    for node in doc.descendants() {
        let d = node
            .parent()
            .and_then(|p| depth.get(p.id().get_usize()).copied())
            .map_or(0, |pd| pd.saturating_add(1));
        let idx = node.id().get_usize();
        if depth.len() <= idx {
            depth.resize(idx + 1, 0);
        }
        if let Some(slot) = depth.get_mut(idx) {
            *slot = d;
        }
        if node.is_element() {
            if usize::from(d) > limits.max_depth {
                return Err(Error::TooDeep(limits.max_depth));
            }
            let count = node.attributes().len() + node_own_namespace_count(node);
            if count > limits.max_attributes {
                return Err(Error::TooManyAttributes(limits.max_attributes));
            }
        }
    }
    Ok(())
}

fn node_own_namespace_count(node: Node<'_, '_>) -> usize {
    // roxmltree keeps in-scope namespaces; the declarations of this element are those that differ
    // from the parent's. An upper bound is fine for a limit.
    let parent = node.parent_element().map_or(0, |p| p.namespaces().len());
    node.namespaces().len().saturating_sub(parent)
}

/// The qualified name of an element exactly as written in the source (`saml:Assertion`).
pub fn element_qname<'a>(node: Node<'_, 'a>) -> &'a str {
    let src = node.document().input_text();
    let start = node.range().start + 1;
    let tail = src.get(start..).unwrap_or("");
    let end = tail
        .bytes()
        .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'>' | b'/'))
        .unwrap_or(tail.len());
    tail.get(..end).unwrap_or("")
}

/// The prefix of an element as written in the source (`None` for an unprefixed name).
pub fn element_prefix<'a>(node: Node<'_, 'a>) -> Option<&'a str> {
    element_qname(node).split_once(':').map(|(p, _)| p)
}

/// The qualified name of an attribute exactly as written in the source.
pub fn attribute_qname<'a>(node: Node<'_, 'a>, attr: &roxmltree::Attribute<'_, 'a>) -> &'a str {
    node.document()
        .input_text()
        .get(attr.range_qname())
        .unwrap_or_else(|| attr.name())
}

/// True when `node` is the element `{ns}local`.
pub fn is(node: Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().name() == local && node.tag_name().namespace() == Some(ns)
}

/// The concatenation of every text node directly under `node`, refusing element children.
///
/// SAML simple-content elements (NameID, Issuer, AttributeValue strings, ...) are read this way
/// rather than as "the first text node": a comment splits `admin@x<!---->.evil` into two text
/// nodes, and reading only the first one is the NameID truncation flaw of CVE-2017-11427 /
/// CVE-2017-11428 / CVE-2018-0489 (Duo "comment injection" class). Canonicalization drops the
/// comment, so the signed value is the concatenation; so is the value we return.
pub fn simple_text(node: Node<'_, '_>) -> Result<String> {
    let mut out = String::new();
    for child in node.children() {
        if child.is_element() {
            return Err(Error::MalformedMessage(format!(
                "<{}> must have simple content",
                node.tag_name().name()
            )));
        }
        if child.is_text() {
            out.push_str(child.text().unwrap_or(""));
        }
    }
    Ok(out)
}

/// Element children of `node`.
pub fn child_elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(|n| n.is_element())
}

/// The single child `{ns}local` of `node`: `Ok(None)` if absent, an error if repeated.
pub fn unique_child<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &str,
    local: &str,
) -> Result<Option<Node<'a, 'i>>> {
    let mut found = None;
    for c in child_elements(node).filter(|c| is(*c, ns, local)) {
        if found.is_some() {
            return Err(Error::MalformedMessage(format!("<{local}> repeated")));
        }
        found = Some(c);
    }
    Ok(found)
}

/// Like [`unique_child`] but the child is required.
pub fn required_child<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str) -> Result<Node<'a, 'i>> {
    unique_child(node, ns, local)?
        .ok_or_else(|| Error::MalformedMessage(format!("missing <{local}>")))
}

/// An unqualified attribute that must be present.
pub fn required_attr<'a>(node: Node<'a, '_>, name: &str) -> Result<&'a str> {
    node.attribute(name).ok_or_else(|| {
        Error::MalformedMessage(format!("<{}> lacks {name}", node.tag_name().name()))
    })
}

/// Escapes text for element content.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a double-quoted attribute value.
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '>' => out.push_str("&gt;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_doctype_and_entities() {
        let l = Limits::default();
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert_eq!(
            parse(bomb, &l).expect_err("must be rejected"),
            Error::DtdForbidden
        );
        let xxe = r#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        assert_eq!(
            parse(xxe, &l).expect_err("must be rejected"),
            Error::DtdForbidden
        );
        assert_eq!(
            parse("<!DOCTYPE a><a/>", &l).expect_err("must be rejected"),
            Error::DtdForbidden
        );
        assert!(matches!(
            parse("<a>&x;</a>", &l).expect_err("must be rejected"),
            Error::DtdForbidden | Error::MalformedXml(_)
        ));
    }

    #[test]
    fn limits() {
        let l = Limits {
            max_depth: 3,
            max_attributes: 2,
            max_bytes: 100,
            max_nodes: 10,
        };
        assert_eq!(
            parse("<a><b><c><d/></c></b></a>", &l).expect_err("must be rejected"),
            Error::TooDeep(3)
        );
        assert!(parse("<a><b><c/></b></a>", &l).is_ok());
        assert_eq!(
            parse(r#"<a x="1" y="2" z="3"/>"#, &l).expect_err("must be rejected"),
            Error::TooManyAttributes(2)
        );
        assert_eq!(
            parse(&"<a>".repeat(40), &l).expect_err("must be rejected"),
            Error::TooLarge(100)
        );
        assert_eq!(
            parse("<a><b/><b/><b/><b/><b/><b/><b/><b/><b/><b/></a>", &l)
                .expect_err("must be rejected"),
            Error::TooManyNodes(10)
        );
    }

    #[test]
    fn encodings() {
        let l = Limits::default();
        assert!(parse(r#"<?xml version="1.0" encoding="UTF-8"?><a/>"#, &l).is_ok());
        assert!(parse(r#"<?xml version="1.0" encoding="UTF-16"?><a/>"#, &l).is_err());
        assert!(parse(r#"<?xml version="1.0" encoding='ISO-8859-1'?><a/>"#, &l).is_err());
        assert!(as_utf8(b"\xEF\xBB\xBF<a/>", &l).is_ok());
        assert!(as_utf8(b"<a>\xff</a>", &l).is_err());
    }

    #[test]
    fn simple_text_concatenates_around_comments() {
        let doc = parse(
            "<n>admin@example.com<!-- x -->.evil.com</n>",
            &Limits::default(),
        )
        .expect("parse");
        assert_eq!(
            simple_text(doc.root_element()).expect("text"),
            "admin@example.com.evil.com"
        );
        let doc = parse("<n>a<b/>c</n>", &Limits::default()).expect("parse");
        assert!(simple_text(doc.root_element()).is_err());
    }

    #[test]
    fn qnames_come_from_the_source() {
        let doc = parse(
            r#"<p:a xmlns:p="urn:x" p:b="1"><c/></p:a>"#,
            &Limits::default(),
        )
        .expect("parse");
        let root = doc.root_element();
        assert_eq!(element_qname(root), "p:a");
        assert_eq!(element_prefix(root), Some("p"));
        let attr = root.attributes().next().expect("attr");
        assert_eq!(attribute_qname(root, &attr), "p:b");
        let c = root.first_element_child().expect("c");
        assert_eq!(element_qname(c), "c");
    }
}
