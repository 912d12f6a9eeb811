//! XML 1.0 + Namespaces parsing with hard limits: `quick-xml`'s low-level [`quick_xml::Reader`]
//! tokenizes, and this module checks well-formedness on top of it and builds a compact,
//! read-only arena tree (see `docs/decisions/0008-saml-xml-parser-quick-xml.md`, which supersedes
//! `0003`).
//!
//! Rules enforced before anything else looks at a document:
//! - UTF-8 only (SAML Bindings §3.5.4 and §3.4.4 carry UTF-8); an `encoding` declaration naming
//!   anything else is refused rather than reinterpreted (parser-differential defence).
//! - No document type declaration at all, hence no entity declarations, no external entities
//!   (XXE, e.g. CVE-2016-10149 in pysaml2) and no entity expansion (billion laughs). SAML messages
//!   never need a DTD (SAML Core §1.3 is schema-based). Only the five predefined entities and
//!   character references are expanded.
//! - Size, depth, attributes-per-element and node-count limits ([`Limits`]), checked while
//!   parsing, so a hostile document never costs more than the limits allow.
//!
//! Well-formedness (XML 1.0 Fifth Edition, Namespaces in XML 1.0 Third Edition) that the
//! tokenizer does not check is checked here, so that a document has exactly one reading:
//! - every character is a `Char` (§2.2), character references included (WFC: Legal Character);
//! - element, attribute and PI-target names are `QName`s / `NCName`s built from `NameStartChar`
//!   and `NameChar` (§2.3, Namespaces §3), attributes are separated by white space (§3.1);
//! - start and end tags match, there is exactly one root element, nothing but white space,
//!   comments and PIs outside it, and the XML declaration (if any) comes first and is
//!   well-formed (§2.1, §2.8);
//! - no `<` in attribute values, no duplicate attribute (by qualified name, WFC: Unique Att
//!   Spec, and by expanded name, Namespaces §6.3), no `]]>` in character data, no `--` in
//!   comments (§2.4, §2.5, §3.1);
//! - prefixes are declared, `xml`/`xmlns` are bound only as Namespaces §3 allows, and a
//!   prefixed declaration is never empty;
//! - line endings are normalized (§2.11), attribute values are normalized as CDATA attributes
//!   (§3.3.3), and entity and character references are expanded (§4.1, §4.6), which yields the
//!   XPath data model that canonicalization is defined on (C14N 1.0 §1.1).

use std::borrow::Cow;
use std::ops::Range;

use quick_xml::events::attributes::Attributes as RawAttributes;
use quick_xml::events::Event;
use quick_xml::Reader;

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
    /// Maximum number of nodes (the document node, elements, texts, comments, PIs; attributes
    /// are bounded by `max_attributes` per element). The in-scope namespace lists stored for
    /// elements that declare namespaces are bounded by the same number. Default 100 000.
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

const NONE: u32 = u32::MAX;
/// Index of the `xml` prefix binding, always in scope (Namespaces §3).
const XML_NS_INDEX: u32 = 0;
const NS_XMLNS: &str = "http://www.w3.org/2000/xmlns/";

/// The position of a node in its [`Document`]; ids follow document order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The id as an index (document order, the root node is 0).
    pub fn get_usize(self) -> usize {
        self.0 as usize
    }
}

/// The kind of a node (the XPath data model node types C14N works on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    /// The document (root) node.
    Root,
    /// An element.
    Element,
    /// A processing instruction.
    PI,
    /// A comment.
    Comment,
    /// Character data: adjacent text, CDATA sections and references merged into one node.
    Text,
}

/// A processing instruction's target and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PI<'a> {
    /// The target.
    pub target: &'a str,
    /// The data after the target and its white space, if any.
    pub value: Option<&'a str>,
}

#[derive(Debug)]
enum Kind<'i> {
    Root,
    Element {
        qname: &'i str,
        local: &'i str,
        ns: u32,
        attrs: (u32, u32),
        scope: (u32, u32),
    },
    Text(Cow<'i, str>),
    Comment(Cow<'i, str>),
    Pi {
        target: &'i str,
        value: Option<Cow<'i, str>>,
    },
}

#[derive(Debug)]
struct NodeData<'i> {
    kind: Kind<'i>,
    parent: u32,
    /// One past the id of the last node of this node's subtree.
    end: u32,
    range: (usize, usize),
}

#[derive(Debug)]
struct AttrData<'i> {
    qname: &'i str,
    local: &'i str,
    ns: u32,
    value: Cow<'i, str>,
}

#[derive(Debug)]
struct NsData<'i> {
    prefix: Option<&'i str>,
    uri: Cow<'i, str>,
}

/// A parsed, read-only document: nodes in document order in one arena.
#[derive(Debug)]
pub struct Document<'i> {
    text: &'i str,
    nodes: Vec<NodeData<'i>>,
    attrs: Vec<AttrData<'i>>,
    namespaces: Vec<NsData<'i>>,
    /// In-scope namespace lists (indices into `namespaces`), one range per element.
    scopes: Vec<u32>,
    root_element: u32,
}

impl<'i> Document<'i> {
    /// The document (root) node.
    pub fn root<'a>(&'a self) -> Node<'a, 'i> {
        Node { doc: self, id: 0 }
    }

    /// The document element (a parsed document always has exactly one).
    pub fn root_element<'a>(&'a self) -> Node<'a, 'i> {
        Node {
            doc: self,
            id: self.root_element,
        }
    }

    /// Every node in document order, the root node first.
    pub fn descendants<'a>(&'a self) -> Descendants<'a, 'i> {
        self.root().descendants()
    }

    /// The node with id `id`, if it exists.
    pub fn get_node<'a>(&'a self, id: NodeId) -> Option<Node<'a, 'i>> {
        (id.get_usize() < self.nodes.len()).then_some(Node {
            doc: self,
            id: id.0,
        })
    }

    /// The text the document was parsed from.
    pub fn input_text(&self) -> &'i str {
        self.text
    }
}

/// A node of a [`Document`] (a cheap copyable handle).
#[derive(Clone, Copy)]
pub struct Node<'a, 'i> {
    doc: &'a Document<'i>,
    id: u32,
}

impl PartialEq for Node<'_, '_> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && std::ptr::eq(self.doc, other.doc)
    }
}

impl Eq for Node<'_, '_> {}

impl std::fmt::Debug for Node<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.data().kind {
            Kind::Element { qname, .. } => write!(f, "Element({}, <{qname}>)", self.id),
            other => write!(f, "{:?}({})", self.node_type(), self.id).and_then(|()| {
                if let Kind::Text(t) | Kind::Comment(t) = other {
                    write!(f, " {t:?}")
                } else {
                    Ok(())
                }
            }),
        }
    }
}

/// An expanded name: namespace URI (if any) and local name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpandedName<'a, 'i> {
    ns: Option<&'a str>,
    name: &'i str,
}

impl<'a, 'i> ExpandedName<'a, 'i> {
    /// The namespace URI.
    pub fn namespace(&self) -> Option<&'a str> {
        self.ns
    }
    /// The local name.
    pub fn name(&self) -> &'i str {
        self.name
    }
}

/// String equality for the strings the parser and the readers compare over and over (prefixes,
/// names, namespace URIs): compared eight bytes at a time inline, where `==` calls `memcmp`,
/// whose call and dispatch cost more than comparing a few dozen bytes. Same result as `a == b`.
#[inline]
pub(crate) fn str_eq(a: &str, b: &str) -> bool {
    #[inline]
    fn word(s: &[u8], i: usize) -> u64 {
        s.get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_ne_bytes)
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    if n > 64 {
        return a == b;
    }
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    // The last (possibly overlapping) eight bytes.
    word(a, n - 8) == word(b, n - 8)
}

#[inline]
pub(crate) fn opt_str_eq(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => str_eq(a, b),
        _ => false,
    }
}

/// A way to name an attribute or element: `"local"` (no namespace) or `(namespace, local)`.
pub trait NameQuery {
    /// True when the expanded name `{ns}local` is the one named.
    fn matches(&self, ns: Option<&str>, local: &str) -> bool;
}

impl NameQuery for &str {
    #[inline]
    fn matches(&self, ns: Option<&str>, local: &str) -> bool {
        ns.is_none() && str_eq(local, self)
    }
}

impl NameQuery for (&str, &str) {
    #[inline]
    fn matches(&self, ns: Option<&str>, local: &str) -> bool {
        // Local names first: they differ early and are short, while most elements of a SAML
        // message share one long namespace URI that only compares equal after every byte.
        str_eq(local, self.1) && opt_str_eq(ns, Some(self.0))
    }
}

/// An attribute of an element (namespace declarations are not attributes).
#[derive(Clone, Copy)]
pub struct Attribute<'a, 'i> {
    doc: &'a Document<'i>,
    data: &'a AttrData<'i>,
}

impl std::fmt::Debug for Attribute<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Attribute({}={:?})", self.data.qname, self.data.value)
    }
}

impl<'a, 'i> Attribute<'a, 'i> {
    /// The namespace URI (`None` for an unprefixed attribute).
    #[inline]
    pub fn namespace(&self) -> Option<&'a str> {
        self.doc.ns_uri(self.data.ns)
    }
    /// The local name.
    pub fn name(&self) -> &'i str {
        self.data.local
    }
    /// The qualified name exactly as written (`p:local`).
    pub fn qname(&self) -> &'i str {
        self.data.qname
    }
    /// The normalized value (XML 1.0 §3.3.3, references expanded).
    #[inline]
    pub fn value(&self) -> &'a str {
        &self.data.value
    }

    /// The namespace binding the attribute's prefix resolved to (`None` when unprefixed). The
    /// strings are those of the declaration, so two lookups of one binding are pointer-equal.
    #[inline]
    pub fn namespace_binding(&self) -> Option<Namespace<'a>> {
        self.doc.binding(self.data.ns)
    }
}

/// An in-scope namespace binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Namespace<'a> {
    name: Option<&'a str>,
    uri: &'a str,
}

impl<'a> Namespace<'a> {
    /// The prefix (`None` for the default namespace).
    pub fn name(&self) -> Option<&'a str> {
        self.name
    }
    /// The namespace URI (empty for an undeclared default namespace, `xmlns=""`).
    pub fn uri(&self) -> &'a str {
        self.uri
    }
}

impl<'i> Document<'i> {
    #[inline]
    fn binding(&self, idx: u32) -> Option<Namespace<'_>> {
        self.namespaces.get(idx as usize).map(|n| Namespace {
            name: n.prefix,
            uri: &n.uri,
        })
    }

    #[inline]
    fn ns_uri(&self, idx: u32) -> Option<&str> {
        self.namespaces
            .get(idx as usize)
            .map(|n| n.uri.as_ref())
            .filter(|u| !u.is_empty())
    }
}

impl<'a, 'i: 'a> Node<'a, 'i> {
    #[inline]
    fn data(&self) -> &'a NodeData<'i> {
        &self.doc.nodes[self.id as usize]
    }

    fn node(&self, id: u32) -> Option<Node<'a, 'i>> {
        (id != NONE).then_some(Node { doc: self.doc, id })
    }

    /// The node's id.
    pub fn id(&self) -> NodeId {
        NodeId(self.id)
    }

    /// The document the node belongs to.
    pub fn document(&self) -> &'a Document<'i> {
        self.doc
    }

    /// The node's kind.
    #[inline]
    pub fn node_type(&self) -> NodeType {
        match self.data().kind {
            Kind::Root => NodeType::Root,
            Kind::Element { .. } => NodeType::Element,
            Kind::Text(_) => NodeType::Text,
            Kind::Comment(_) => NodeType::Comment,
            Kind::Pi { .. } => NodeType::PI,
        }
    }

    /// True for the document node.
    pub fn is_root(&self) -> bool {
        matches!(self.data().kind, Kind::Root)
    }
    /// True for an element.
    #[inline]
    pub fn is_element(&self) -> bool {
        matches!(self.data().kind, Kind::Element { .. })
    }
    /// True for a text node.
    #[inline]
    pub fn is_text(&self) -> bool {
        matches!(self.data().kind, Kind::Text(_))
    }
    /// True for a comment.
    #[inline]
    pub fn is_comment(&self) -> bool {
        matches!(self.data().kind, Kind::Comment(_))
    }
    /// True for a processing instruction.
    pub fn is_pi(&self) -> bool {
        matches!(self.data().kind, Kind::Pi { .. })
    }

    /// The expanded name of an element (empty for other nodes).
    #[inline]
    pub fn tag_name(&self) -> ExpandedName<'a, 'i> {
        match self.data().kind {
            Kind::Element { local, ns, .. } => ExpandedName {
                ns: self.doc.ns_uri(ns),
                name: local,
            },
            _ => ExpandedName { ns: None, name: "" },
        }
    }

    /// The namespace binding an element's name resolved to: its prefix's declaration, or the
    /// non-empty default namespace; `None` for an element in no namespace. The strings are those
    /// of the declaration, so two lookups of one binding are pointer-equal.
    #[inline]
    pub fn namespace_binding(&self) -> Option<Namespace<'a>> {
        match self.data().kind {
            Kind::Element { ns, .. } => self.doc.binding(ns),
            _ => None,
        }
    }

    /// True when this is an element with the expanded name `name`.
    #[inline]
    pub fn has_tag_name(&self, name: impl NameQuery) -> bool {
        match self.data().kind {
            Kind::Element { local, ns, .. } => name.matches(self.doc.ns_uri(ns), local),
            _ => false,
        }
    }

    /// The qualified name of an element exactly as written (`saml:Assertion`); empty for other
    /// nodes.
    #[inline]
    pub fn qname(&self) -> &'i str {
        match self.data().kind {
            Kind::Element { qname, .. } => qname,
            _ => "",
        }
    }

    #[inline]
    fn attr_slice(&self) -> &'a [AttrData<'i>] {
        match self.data().kind {
            Kind::Element { attrs, .. } => self
                .doc
                .attrs
                .get(attrs.0 as usize..attrs.1 as usize)
                .unwrap_or_default(),
            _ => &[],
        }
    }

    /// The value of the attribute `name` (`"local"` or `(namespace, local)`).
    #[inline]
    pub fn attribute(&self, name: impl NameQuery) -> Option<&'a str> {
        self.attr_slice()
            .iter()
            .find(|a| name.matches(self.doc.ns_uri(a.ns), a.local))
            .map(|a| a.value.as_ref())
    }

    /// The attributes of an element in document order (namespace declarations excluded).
    pub fn attributes(
        &self,
    ) -> impl ExactSizeIterator<Item = Attribute<'a, 'i>> + Clone + use<'a, 'i> {
        let doc = self.doc;
        self.attr_slice()
            .iter()
            .map(move |data| Attribute { doc, data })
    }

    /// The namespace bindings in scope on an element (the implicit `xml` binding excluded).
    pub fn namespaces(
        &self,
    ) -> impl DoubleEndedIterator<Item = Namespace<'a>> + ExactSizeIterator + Clone + use<'a, 'i>
    {
        let doc = self.doc;
        let ids = match self.data().kind {
            Kind::Element { scope, .. } => doc
                .scopes
                .get(scope.0 as usize..scope.1 as usize)
                .unwrap_or_default(),
            _ => &[],
        };
        ids.iter().map(move |&i| {
            let n = &doc.namespaces[i as usize];
            Namespace {
                name: n.prefix,
                uri: &n.uri,
            }
        })
    }

    /// The URI bound to `prefix` (`None`: the default namespace) on this element; an undeclared
    /// default namespace (`xmlns=""`) reads as `Some("")`.
    pub fn lookup_namespace_uri(&self, prefix: Option<&str>) -> Option<&'a str> {
        if prefix == Some("xml") {
            return Some(NS_XML);
        }
        let mut it = self.namespaces();
        it.rfind(|n| n.name == prefix).map(|n| n.uri)
    }

    /// The parent node.
    pub fn parent(&self) -> Option<Node<'a, 'i>> {
        self.node(self.data().parent)
    }

    /// The parent, if it is an element.
    pub fn parent_element(&self) -> Option<Node<'a, 'i>> {
        self.parent().filter(Node::is_element)
    }

    /// This node and its ancestors, up to the root node.
    pub fn ancestors(&self) -> Ancestors<'a, 'i> {
        Ancestors {
            doc: self.doc,
            next: self.id,
        }
    }

    /// The children in document order.
    #[inline]
    pub fn children(&self) -> Children<'a, 'i> {
        Children {
            doc: self.doc,
            next: self.id + 1,
            end: self.data().end,
        }
    }

    /// This node and every node below it, in document order.
    pub fn descendants(&self) -> Descendants<'a, 'i> {
        Descendants {
            doc: self.doc,
            next: self.id,
            end: self.data().end,
        }
    }

    /// The first child.
    pub fn first_child(&self) -> Option<Node<'a, 'i>> {
        self.children().next()
    }

    /// The first element child.
    pub fn first_element_child(&self) -> Option<Node<'a, 'i>> {
        self.children().find(Node::is_element)
    }

    /// True when the node has children.
    pub fn has_children(&self) -> bool {
        self.data().end > self.id + 1
    }

    /// A text or comment node's text; for an element, the text of its first child if that is a
    /// text node.
    #[inline]
    pub fn text(&self) -> Option<&'a str> {
        match &self.data().kind {
            Kind::Text(t) | Kind::Comment(t) => Some(t),
            Kind::Element { .. } => self.first_child().filter(Node::is_text)?.text(),
            _ => None,
        }
    }

    /// A processing instruction's target and data.
    pub fn pi(&self) -> Option<PI<'a>> {
        match &self.data().kind {
            Kind::Pi { target, value } => Some(PI {
                target,
                value: value.as_deref(),
            }),
            _ => None,
        }
    }

    /// The byte range of the node in the input (for an element, from `<` to the end of its end
    /// tag).
    pub fn range(&self) -> Range<usize> {
        let (s, e) = self.data().range;
        s..e
    }
}

/// Iterator over a node's children.
#[derive(Debug, Clone)]
pub struct Children<'a, 'i> {
    doc: &'a Document<'i>,
    next: u32,
    end: u32,
}

impl<'a, 'i> Iterator for Children<'a, 'i> {
    type Item = Node<'a, 'i>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let id = self.next;
        self.next = self.doc.nodes.get(id as usize)?.end;
        Some(Node { doc: self.doc, id })
    }
}

/// Iterator over a subtree in document order.
#[derive(Debug, Clone)]
pub struct Descendants<'a, 'i> {
    doc: &'a Document<'i>,
    next: u32,
    end: u32,
}

impl<'a, 'i> Iterator for Descendants<'a, 'i> {
    type Item = Node<'a, 'i>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let id = self.next;
        self.next += 1;
        Some(Node { doc: self.doc, id })
    }
}

/// Iterator from a node up to the root node.
#[derive(Debug, Clone)]
pub struct Ancestors<'a, 'i> {
    doc: &'a Document<'i>,
    next: u32,
}

impl<'a, 'i> Iterator for Ancestors<'a, 'i> {
    type Item = Node<'a, 'i>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.doc.nodes.get(id as usize)?.parent;
        Some(Node { doc: self.doc, id })
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing.

fn bad(msg: impl Into<String>) -> Error {
    Error::MalformedXml(msg.into())
}

/// Parses `input` under `limits`, refusing DTDs and non-UTF-8 encoding declarations.
pub fn parse<'i>(input: &'i str, limits: &Limits) -> Result<Document<'i>> {
    if input.len() > limits.max_bytes {
        return Err(Error::TooLarge(limits.max_bytes));
    }
    let base = if input.starts_with('\u{FEFF}') { 3 } else { 0 };
    let body = input.get(base..).unwrap_or("");
    check_declaration(body)?;
    let scan = scan(body.as_bytes())?;
    let mut b = Builder {
        text: input,
        limits,
        has_cr: scan.has_cr,
        has_bracket: scan.has_bracket,
        doc: Document {
            text: input,
            nodes: Vec::with_capacity(body.len() / 24 + 4),
            attrs: Vec::with_capacity(body.len() / 64 + 4),
            namespaces: vec![NsData {
                prefix: Some("xml"),
                uri: Cow::Borrowed(NS_XML),
            }],
            scopes: Vec::with_capacity(16),
            root_element: NONE,
        },
        stack: Vec::with_capacity(16),
        raw: Vec::with_capacity(16),
        decls: Vec::with_capacity(8),
        names: [None; NAME_MEMO],
    };
    b.doc.nodes.push(NodeData {
        kind: Kind::Root,
        parent: NONE,
        end: 1,
        range: (0, input.len()),
    });
    b.run(body, base)?;
    Ok(b.doc)
}

/// What one pass over the raw bytes found.
struct Scan {
    /// A CR occurs: line ends need normalizing (XML 1.0 §2.11).
    has_cr: bool,
    /// A `]` occurs: character data must be checked for `]]>`.
    has_bracket: bool,
}

/// One pass over the input, 64-byte blocks screened with branch-free (vectorizable) tests; only
/// a block holding a suspect byte is looked at byte by byte:
/// - `<!DOCTYPE` or `<!ENTITY` anywhere (even in a comment) is refused before tokenizing, so a
///   DTD never reaches the tokenizer whatever it contains (`DtdForbidden` wins over any other
///   error);
/// - every character must match XML 1.0 §2.2 `Char`: `&str` already excludes surrogates and
///   code points beyond U+10FFFF, so what is left are the C0 controls other than tab, LF and CR,
///   and U+FFFE / U+FFFF (`EF BF BE` / `EF BF BF`).
fn scan(b: &[u8]) -> Result<Scan> {
    let (mut has_cr, mut has_bracket) = (false, false);
    let mut illegal: Option<Error> = None;
    for (k, block) in b.chunks(64).enumerate() {
        let (mut suspect, mut cr, mut bracket, mut bang) = (false, false, false, false);
        for &c in block {
            suspect |= (c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r') | (c == 0xEF);
            cr |= c == b'\r';
            bracket |= c == b']';
            bang |= c == b'!';
        }
        has_cr |= cr;
        has_bracket |= bracket;
        if !(suspect || bang) {
            continue;
        }
        for i in k * 64..k * 64 + block.len() {
            match b.get(i).copied().unwrap_or(b' ') {
                b'!' if i > 0 && b.get(i - 1) == Some(&b'<') => {
                    let rest = b.get(i + 1..).unwrap_or_default();
                    // `<!DOCTYPE` is case-sensitive in XML; other spellings are refused by the
                    // tokenizer's DocType event or are not well-formed.
                    if rest.starts_with(b"DOCTYPE") || rest.starts_with(b"ENTITY") {
                        return Err(Error::DtdForbidden);
                    }
                }
                c if c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r') => {
                    illegal.get_or_insert_with(|| bad(format!("illegal character U+{c:04X}")));
                }
                0xEF if b.get(i + 1) == Some(&0xBF)
                    && matches!(b.get(i + 2), Some(0xBE | 0xBF)) =>
                {
                    illegal.get_or_insert_with(|| bad("illegal character U+FFFE/U+FFFF"));
                }
                _ => {}
            }
        }
    }
    match illegal {
        Some(e) => Err(e),
        None => Ok(Scan {
            has_cr,
            has_bracket,
        }),
    }
}

fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Namespaces §3 `NCName`: an XML `Name` without colons.
fn is_ncname(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    if b.is_ascii() {
        return (first.is_ascii_alphabetic() || first == b'_')
            && b.iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    }
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// Byte classes for ASCII names: bit 0 = `NameStartChar`, bit 1 = `NameChar` (start characters
/// included), bit 2 = non-ASCII (full check); `:` and everything else are 0.
const NAME_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = if c.is_ascii_alphabetic() || c == b'_' {
            0b011
        } else if c.is_ascii_digit() || c == b'-' || c == b'.' {
            0b010
        } else if c >= 0x80 {
            0b100
        } else {
            0
        };
        i += 1;
    }
    t
};

/// An ASCII `NCName`: `Some(true)`, not one: `Some(false)`, non-ASCII bytes: `None`.
#[inline]
fn ascii_ncname(b: &[u8]) -> Option<bool> {
    let Some((&first, rest)) = b.split_first() else {
        return Some(false);
    };
    let mut all = NAME_CLASS[first as usize];
    let mut any = all;
    for &c in rest {
        let k = NAME_CLASS[c as usize];
        all &= k | 0b001;
        any |= k;
    }
    if any & 0b100 != 0 {
        return None;
    }
    // The first byte starts a name and every byte is a name character.
    Some(all & 0b011 == 0b011)
}

/// Splits a Namespaces §3 `QName` into prefix and local part. Table-driven over ASCII names
/// (the common case); anything else takes the full `NameStartChar`/`NameChar` check.
fn split_qname(q: &str) -> Result<(Option<&str>, &str)> {
    let b = q.as_bytes();
    let colon = b.iter().position(|&c| c == b':');
    let ok = match colon {
        None => ascii_ncname(b),
        Some(i) => match (
            ascii_ncname(b.get(..i).unwrap_or_default()),
            ascii_ncname(b.get(i + 1..).unwrap_or_default()),
        ) {
            (Some(x), Some(y)) => Some(x && y),
            _ => None,
        },
    };
    match (ok, colon) {
        (None, _) => split_qname_full(q),
        (Some(false), _) => Err(bad(format!("invalid name {q:?}"))),
        (Some(true), None) => Ok((None, q)),
        (Some(true), Some(i)) => Ok((q.get(..i), q.get(i + 1..).unwrap_or(""))),
    }
}

fn split_qname_full(q: &str) -> Result<(Option<&str>, &str)> {
    let (prefix, local) = match q.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, q),
    };
    if prefix.is_some_and(|p| !is_ncname(p)) || !is_ncname(local) {
        return Err(bad(format!("invalid name {q:?}")));
    }
    Ok((prefix, local))
}

/// XML 1.0 §2.2 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The character an entity or character reference (the part between `&` and `;`) stands for:
/// the five predefined entities (XML 1.0 §4.6) and character references to legal characters
/// (§4.1, WFC: Legal Character). Any other entity would need a DTD.
fn resolve_reference(name: &str) -> Result<char> {
    match name {
        "lt" => return Ok('<'),
        "gt" => return Ok('>'),
        "amp" => return Ok('&'),
        "apos" => return Ok('\''),
        "quot" => return Ok('"'),
        _ => {}
    }
    if let Some(num) = name.strip_prefix('#') {
        let (digits, radix) = match num.strip_prefix('x') {
            Some(hex) => (hex, 16),
            None => (num, 10),
        };
        let valid_digits = !digits.is_empty()
            && digits.bytes().all(|c| match radix {
                16 => c.is_ascii_hexdigit(),
                _ => c.is_ascii_digit(),
            });
        return u32::from_str_radix(digits, radix)
            .ok()
            .filter(|_| valid_digits)
            .and_then(char::from_u32)
            .filter(|c| is_xml_char(*c))
            .ok_or_else(|| bad(format!("invalid character reference &{name};")));
    }
    if is_ncname(name) {
        // An undeclared entity: only a DTD could declare it.
        return Err(Error::DtdForbidden);
    }
    Err(bad(format!("invalid reference &{name};")))
}

/// XML 1.0 §2.11: CR LF and lone CR become LF.
fn normalize_eol(s: &str) -> Cow<'_, str> {
    if !s.contains('\r') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
}

/// True when some byte of `bytes` is in `set`: eight bytes at a time with the SWAR zero-byte
/// test (`(y - 0x01..) & !y & 0x80..` is non-zero exactly when a byte of `y` is zero), where a
/// byte-by-byte search pays a branch per byte. For the "is there anything to rewrite or escape"
/// checks on values and text, which are nearly always plain.
#[inline]
pub(crate) fn contains_any<const N: usize>(bytes: &[u8], set: [u8; N]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let chunks = bytes.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            return true;
        };
        let x = u64::from_le_bytes(word);
        let mut found = 0;
        for c in set {
            let y = x ^ (LO * u64::from(c));
            found |= y.wrapping_sub(LO) & !y & HI;
        }
        if found != 0 {
            return true;
        }
    }
    tail.iter().any(|b| set.contains(b))
}

/// XML 1.0 §3.3.3 for a CDATA attribute (there is no DTD, so every attribute is CDATA): line
/// ends normalized, then each white-space character becomes a space, references are expanded
/// (a reference to a white-space character stays that character). `<` is refused (WFC: No <
/// in Attribute Values).
fn normalize_attr(raw: &str) -> Result<Cow<'_, str>> {
    let bytes = raw.as_bytes();
    if !contains_any(bytes, [b'&', b'<', b'\t', b'\n', b'\r']) {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let (mut i, mut last) = (0, 0);
    while let Some(&c) = bytes.get(i) {
        match c {
            b'<' => return Err(bad("'<' in an attribute value")),
            b'\t' | b'\n' | b'\r' => {
                out.push_str(raw.get(last..i).unwrap_or(""));
                out.push(' ');
                i += 1;
                if c == b'\r' && bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
                last = i;
            }
            b'&' => {
                out.push_str(raw.get(last..i).unwrap_or(""));
                let rest = raw.get(i + 1..).unwrap_or("");
                let semi = rest
                    .find(';')
                    .ok_or_else(|| bad("unterminated reference in an attribute value"))?;
                out.push(resolve_reference(rest.get(..semi).unwrap_or(""))?);
                i += semi + 2;
                last = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(raw.get(last..).unwrap_or(""));
    Ok(Cow::Owned(out))
}

fn is_xml_space(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

struct RawAttr<'i> {
    qname: &'i str,
    prefix: Option<&'i str>,
    local: &'i str,
    value: Cow<'i, str>,
}

/// The kind of a token, all [`Builder::run`] needs from a quick-xml [`Event`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// A start tag, with the length of its name (quick-xml's `name_len`: up to the first white
    /// space).
    Start(usize),
    /// An empty-element tag, with the length of its name.
    Empty(usize),
    End,
    Text,
    GeneralRef,
    CData,
    Comment,
    PI,
    Decl,
    DocType,
    Eof,
}

impl Tok {
    #[inline]
    fn of(e: &Event<'_>) -> Tok {
        match e {
            Event::Start(e) => Tok::Start(e.name().as_ref().len()),
            Event::Empty(e) => Tok::Empty(e.name().as_ref().len()),
            Event::End(_) => Tok::End,
            Event::Text(_) => Tok::Text,
            Event::GeneralRef(_) => Tok::GeneralRef,
            Event::CData(_) => Tok::CData,
            Event::Comment(_) => Tok::Comment,
            Event::PI(_) => Tok::PI,
            Event::Decl(_) => Tok::Decl,
            Event::DocType(_) => Tok::DocType,
            Event::Eof => Tok::Eof,
        }
    }
}

struct Builder<'i, 'l> {
    text: &'i str,
    limits: &'l Limits,
    has_cr: bool,
    has_bracket: bool,
    doc: Document<'i>,
    /// Open elements.
    /// Open elements with their in-scope namespace lists (kept here so that a child's scope
    /// does not reload its parent's node).
    stack: Vec<(u32, (u32, u32))>,
    /// Attributes of the start tag being read (reused).
    raw: Vec<RawAttr<'i>>,
    /// Namespace declarations of the start tag being read (reused).
    decls: Vec<(Option<&'i str>, Cow<'i, str>)>,
    /// Names already checked by [`split_qname`] with their colon position, so that the few
    /// names a SAML document repeats (`saml:Attribute`, `Name`, ...) are checked once.
    names: [Option<(&'i str, Option<usize>)>; NAME_MEMO],
}

/// Slots of [`Builder::names`] (direct-mapped on length and last byte).
const NAME_MEMO: usize = 32;

impl<'i> Builder<'i, '_> {
    /// [`split_qname`], remembering names that passed: a name equal to one that passed is
    /// split at the same colon without checking its characters again. Only successes are
    /// kept, and only for exactly the same bytes, so the result is always `split_qname`'s.
    fn split_name(&mut self, q: &'i str) -> Result<(Option<&'i str>, &'i str)> {
        let slot =
            (q.len() ^ usize::from(q.as_bytes().last().copied().unwrap_or(0)) << 1) % NAME_MEMO;
        if let Some((known, colon)) = self.names[slot] {
            if str_eq(known, q) {
                return Ok(match colon {
                    None => (None, q),
                    Some(i) => (q.get(..i), q.get(i + 1..).unwrap_or("")),
                });
            }
        }
        let (prefix, local) = split_qname(q)?;
        self.names[slot] = Some((q, prefix.map(str::len)));
        Ok((prefix, local))
    }

    fn slice(&self, r: Range<usize>) -> Result<&'i str> {
        self.text
            .get(r)
            .ok_or_else(|| bad("internal: bad token range"))
    }

    #[inline]
    fn push_node(&mut self, kind: Kind<'i>, range: (usize, usize)) -> Result<u32> {
        let id = self.doc.nodes.len();
        if id >= self.limits.max_nodes as usize {
            return Err(Error::TooManyNodes(self.limits.max_nodes));
        }
        let parent = self.stack.last().map_or(0, |s| s.0);
        let id = u32::try_from(id).map_err(|_| Error::TooManyNodes(self.limits.max_nodes))?;
        self.doc.nodes.push(NodeData {
            kind,
            parent,
            end: id + 1,
            range,
        });
        Ok(id)
    }

    /// Character data inside the root element; adjacent pieces (text, CDATA, references) form one
    /// text node.
    fn push_text(&mut self, piece: Cow<'i, str>, range: (usize, usize)) -> Result<()> {
        if self.stack.is_empty() {
            return Err(bad("character data outside the root element"));
        }
        if piece.is_empty() {
            return Ok(());
        }
        let parent = self.stack.last().map_or(0, |s| s.0);
        if let Some(last) = self.doc.nodes.last_mut() {
            if last.parent == parent {
                if let Kind::Text(t) = &mut last.kind {
                    t.to_mut().push_str(&piece);
                    last.range.1 = range.1;
                    return Ok(());
                }
            }
        }
        self.push_node(Kind::Text(piece), range)?;
        Ok(())
    }

    fn eol(&self, s: &'i str) -> Cow<'i, str> {
        if self.has_cr {
            normalize_eol(s)
        } else {
            Cow::Borrowed(s)
        }
    }

    fn run(&mut self, body: &'i str, base: usize) -> Result<()> {
        let mut reader = Reader::from_str(body);
        {
            let cfg = reader.config_mut();
            cfg.check_end_names = true;
            cfg.check_comments = true;
            cfg.expand_empty_elements = false;
            cfg.allow_dangling_amp = false;
            cfg.allow_unmatched_ends = false;
            cfg.trim_markup_names_in_closing_tags = true;
            cfg.trim_text(false);
        }
        let mut first = true;
        let mut root_closed = false;
        loop {
            let start = base + usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            // Only the token's kind is kept: its content is sliced from the input by position
            // below, and not moving the event out of the tokenizer's result saves a copy (and a
            // store-forwarding stall) per token.
            let event = match reader.read_event() {
                Ok(e) => Tok::of(&e),
                Err(e) => return Err(bad(e.to_string())),
            };
            let end = base + usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let is_first = std::mem::replace(&mut first, false);
            // Every token is sliced from the input by position: check the positions agree with
            // the token kind before trusting them.
            let lead = self.text.as_bytes().get(start).copied();
            let expected = match event {
                Tok::Text | Tok::Eof => lead,
                Tok::GeneralRef => Some(b'&'),
                _ => Some(b'<'),
            };
            if lead != expected {
                return Err(bad("internal: token does not start where expected"));
            }
            match event {
                Tok::Start(name_len) | Tok::Empty(name_len) => {
                    if root_closed {
                        return Err(bad("more than one root element"));
                    }
                    let empty = matches!(event, Tok::Empty(_));
                    let inner =
                        self.slice(start + 1..end.saturating_sub(if empty { 2 } else { 1 }))?;
                    let (id, scope) = self.start_tag(inner, name_len, start, end)?;
                    if empty {
                        if self.stack.is_empty() {
                            root_closed = true;
                        }
                    } else {
                        self.stack.push((id, scope));
                    }
                }
                Tok::End => {
                    // quick-xml has checked the name matches the open element.
                    let (id, _) = self
                        .stack
                        .pop()
                        .ok_or_else(|| bad("end tag without start tag"))?;
                    let next = u32::try_from(self.doc.nodes.len()).unwrap_or(NONE);
                    if let Some(n) = self.doc.nodes.get_mut(id as usize) {
                        n.end = next;
                        n.range.1 = end;
                    }
                    if self.stack.is_empty() {
                        root_closed = true;
                    }
                }
                Tok::Text => {
                    let raw = self.slice(start..end)?;
                    if self.stack.is_empty() {
                        if !is_xml_space(raw) {
                            return Err(bad("character data outside the root element"));
                        }
                        continue;
                    }
                    if self.has_bracket && raw.contains("]]>") {
                        return Err(bad("']]>' in character data"));
                    }
                    let t = self.eol(raw);
                    self.push_text(t, (start, end))?;
                }
                Tok::GeneralRef => {
                    let name = self.slice(start + 1..end.saturating_sub(1))?;
                    let c = resolve_reference(name)?;
                    self.push_text(Cow::Owned(c.to_string()), (start, end))?;
                }
                Tok::CData => {
                    let t = self.slice(start + 9..end.saturating_sub(3))?;
                    let t = self.eol(t);
                    self.push_text(t, (start, end))?;
                }
                Tok::Comment => {
                    let t = self.slice(start + 4..end.saturating_sub(3))?;
                    // `--` inside is refused by quick-xml (check_comments); `--->` is not.
                    if t.ends_with('-') {
                        return Err(bad("'-' before the end of a comment"));
                    }
                    let t = self.eol(t);
                    self.push_node(Kind::Comment(t), (start, end))?;
                }
                Tok::PI => {
                    let content = self.slice(start + 2..end.saturating_sub(2))?;
                    let (target, value) = match content.find([' ', '\t', '\n', '\r']) {
                        Some(i) => (
                            content.get(..i).unwrap_or(""),
                            Some(
                                content
                                    .get(i..)
                                    .unwrap_or("")
                                    .trim_start_matches([' ', '\t', '\n', '\r']),
                            ),
                        ),
                        None => (content, None),
                    };
                    if !is_ncname(target) {
                        return Err(bad(format!(
                            "invalid processing instruction target {target:?}"
                        )));
                    }
                    if target.eq_ignore_ascii_case("xml") {
                        return Err(bad("XML declaration not at the start of the document"));
                    }
                    let value = value.filter(|v| !v.is_empty()).map(|v| self.eol(v));
                    self.push_node(Kind::Pi { target, value }, (start, end))?;
                }
                Tok::Decl => {
                    if !is_first || start != base {
                        return Err(bad("XML declaration not at the start of the document"));
                    }
                    check_xml_decl(self.slice(start + 2..end.saturating_sub(2))?)?;
                }
                Tok::DocType => return Err(Error::DtdForbidden),
                Tok::Eof => break,
            }
        }
        if !self.stack.is_empty() {
            return Err(bad("unclosed element"));
        }
        if self.doc.root_element == NONE {
            return Err(bad("no root element"));
        }
        let n = u32::try_from(self.doc.nodes.len()).unwrap_or(NONE);
        if let Some(root) = self.doc.nodes.first_mut() {
            root.end = n;
        }
        Ok(())
    }

    /// Reads a start tag (`inner` is the text between `<` and `>` or `/>`, `name_len` the
    /// length of its name as the tokenizer found it), checks its names, attributes and
    /// namespace declarations, and appends the element. Returns its id and in-scope namespaces.
    fn start_tag(
        &mut self,
        inner: &'i str,
        name_len: usize,
        start: usize,
        end: usize,
    ) -> Result<(u32, (u32, u32))> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Error::TooDeep(self.limits.max_depth));
        }
        // The name is everything up to the first white space. The tokenizer measured it; the
        // name check below refuses white space inside it, and this refuses a name that stops
        // before white space, so the split is the same as scanning for the white space here.
        if !matches!(
            inner.as_bytes().get(name_len),
            None | Some(b' ' | b'\t' | b'\n' | b'\r')
        ) {
            return Err(bad("internal: element name length"));
        }
        let qname = inner
            .get(..name_len)
            .ok_or_else(|| bad("internal: element name length"))?;
        let (prefix, local) = self.split_name(qname)?;
        if matches!(prefix, Some("xmlns" | "xml")) {
            // `xmlns:` is never an element prefix (Namespaces §3); `xml:` would be legal but no
            // SAML or XML-DSig element uses it, and the previous parser refused it too.
            return Err(bad("element with the xmlns or xml prefix"));
        }

        self.raw.clear();
        self.decls.clear();
        let mut count = 0usize;
        let mut attrs = RawAttributes::new(inner, name_len);
        attrs.with_checks(false);
        for a in attrs {
            let a = a.map_err(|e| bad(e.to_string()))?;
            count += 1;
            if count > self.limits.max_attributes {
                return Err(Error::TooManyAttributes(self.limits.max_attributes));
            }
            let key = a.key.into_inner();
            let Cow::Borrowed(value) = a.value else {
                return Err(bad("internal: attribute value copied"));
            };
            // Offsets of the borrowed slices inside `inner` (quick-xml hands out sub-slices).
            let origin = inner.as_ptr() as usize;
            let k0 = (key.as_ptr() as usize).wrapping_sub(origin);
            let v0 = (value.as_ptr() as usize).wrapping_sub(origin);
            let qn = inner
                .get(k0..k0 + key.len())
                .ok_or_else(|| bad("internal: attribute name outside the tag"))?;
            let raw_value = inner
                .get(v0..v0 + value.len())
                .ok_or_else(|| bad("internal: attribute value outside the tag"))?;
            // XML 1.0 §3.1: attributes are separated by white space.
            match inner.as_bytes().get(v0 + value.len() + 1) {
                None | Some(b' ' | b'\t' | b'\n' | b'\r') => {}
                Some(_) => return Err(bad("attributes not separated by white space")),
            }
            let (ap, al) = self.split_name(qn)?;
            if self.raw.iter().any(|r| str_eq(r.qname, qn))
                || (ap.is_none() && al == "xmlns" && self.decls.iter().any(|d| d.0.is_none()))
                || (ap == Some("xmlns") && self.decls.iter().any(|d| d.0 == Some(al)))
            {
                return Err(bad(format!("duplicate attribute {qn:?}")));
            }
            let value = normalize_attr(raw_value)?;
            match (ap, al) {
                (None, "xmlns") => {
                    if value == NS_XML || value == NS_XMLNS {
                        return Err(bad("reserved namespace bound as the default namespace"));
                    }
                    self.decls.push((None, value));
                }
                (Some("xmlns"), p) => {
                    if p == "xmlns" {
                        return Err(bad("the xmlns prefix cannot be declared"));
                    }
                    if (p == "xml") != (value == NS_XML) || value == NS_XMLNS {
                        return Err(bad(format!("invalid binding of prefix {p:?}")));
                    }
                    if value.is_empty() {
                        return Err(bad(format!("empty namespace for prefix {p:?}")));
                    }
                    self.decls.push((Some(p), value));
                }
                _ => self.raw.push(RawAttr {
                    qname: qn,
                    prefix: ap,
                    local: al,
                    value,
                }),
            }
        }

        // Namespace scope: the parent's, with this element's declarations replacing same
        // prefixes.
        let parent_scope = self.stack.last().map_or((0, 0), |s| s.1);
        let scope = if self.decls.iter().all(|d| d.0 == Some("xml")) {
            parent_scope
        } else {
            let s0 = u32::try_from(self.doc.scopes.len()).map_err(|_| bad("too many scopes"))?;
            for k in parent_scope.0..parent_scope.1 {
                let idx = self.doc.scopes[k as usize];
                let p = self.doc.namespaces[idx as usize].prefix;
                if !self.decls.iter().any(|d| d.0 == p) {
                    self.doc.scopes.push(idx);
                }
            }
            for (p, uri) in self.decls.drain(..) {
                if p == Some("xml") {
                    // Binding `xml` to its own namespace is allowed and changes nothing.
                    continue;
                }
                let idx = u32::try_from(self.doc.namespaces.len())
                    .map_err(|_| bad("too many namespaces"))?;
                self.doc.namespaces.push(NsData { prefix: p, uri });
                self.doc.scopes.push(idx);
            }
            // Each declaring element stores its whole in-scope list; bound the total so that
            // many declaring siblings under a deep stack of declarations cannot multiply memory
            // (the XPath data model counts these as namespace nodes).
            if self.doc.scopes.len() > self.limits.max_nodes as usize {
                return Err(Error::TooManyNodes(self.limits.max_nodes));
            }
            let s1 = u32::try_from(self.doc.scopes.len()).map_err(|_| bad("too many scopes"))?;
            (s0, s1)
        };
        let resolve = |doc: &Document<'i>, p: Option<&str>| -> Option<u32> {
            if p == Some("xml") {
                return Some(XML_NS_INDEX);
            }
            doc.scopes
                .get(scope.0 as usize..scope.1 as usize)?
                .iter()
                .rev()
                .copied()
                .find(|&i| opt_str_eq(doc.namespaces[i as usize].prefix, p))
        };
        let ns = match prefix {
            Some(p) => resolve(&self.doc, Some(p))
                .ok_or_else(|| bad(format!("undeclared prefix {p:?}")))?,
            None => resolve(&self.doc, None)
                .filter(|&i| !self.doc.namespaces[i as usize].uri.is_empty())
                .unwrap_or(NONE),
        };

        let a0 = u32::try_from(self.doc.attrs.len()).map_err(|_| bad("too many attributes"))?;
        for r in self.raw.drain(..) {
            let ans = match r.prefix {
                None => NONE,
                Some(p) => resolve(&self.doc, Some(p))
                    .ok_or_else(|| bad(format!("undeclared prefix {p:?}")))?,
            };
            // Namespaces §6.3: no two attributes with the same expanded name.
            if ans != NONE {
                let uri = self.doc.ns_uri(ans);
                let dup = self.doc.attrs.get(a0 as usize..).is_some_and(|prev| {
                    prev.iter().any(|q| {
                        str_eq(q.local, r.local) && q.ns != NONE && self.doc.ns_uri(q.ns) == uri
                    })
                });
                if dup {
                    return Err(bad(format!("duplicate attribute {{{uri:?}}}{}", r.local)));
                }
            }
            self.doc.attrs.push(AttrData {
                qname: r.qname,
                local: r.local,
                ns: ans,
                value: r.value,
            });
        }
        let a1 = u32::try_from(self.doc.attrs.len()).map_err(|_| bad("too many attributes"))?;
        let id = self.push_node(
            Kind::Element {
                qname,
                local,
                ns,
                attrs: (a0, a1),
                scope,
            },
            (start, end),
        )?;
        if self.stack.is_empty() {
            self.doc.root_element = id;
        }
        Ok((id, scope))
    }
}

/// XML 1.0 §2.8 `XMLDecl`: `version`, then optionally `encoding`, then optionally `standalone`,
/// nothing else (`content` is the text between `<?` and `?>`).
fn check_xml_decl(content: &str) -> Result<()> {
    let mut expected = ["version", "encoding", "standalone"].into_iter();
    let mut seen_version = false;
    let mut attrs = RawAttributes::new(content, 3);
    attrs.with_checks(false);
    for a in attrs {
        let a = a.map_err(|e| bad(format!("XML declaration: {e}")))?;
        let key = std::str::from_utf8(a.key.into_inner()).unwrap_or("");
        let value = std::str::from_utf8(&a.value).unwrap_or("");
        if (!seen_version && key != "version") || !expected.any(|k| k == key) {
            return Err(bad(format!("XML declaration: unexpected {key:?}")));
        }
        let ok = match key {
            "version" => {
                seen_version = true;
                value
                    .strip_prefix("1.")
                    .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))
            }
            "encoding" => {
                let b = value.as_bytes();
                b.first().is_some_and(u8::is_ascii_alphabetic)
                    && b.iter()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
            }
            _ => matches!(value, "yes" | "no"),
        };
        if !ok {
            return Err(bad(format!("XML declaration: bad {key} {value:?}")));
        }
    }
    if !seen_version {
        return Err(bad("XML declaration without version"));
    }
    // Pseudo-attributes must be separated by white space too.
    let mut in_quote = None;
    let bytes = content.as_bytes();
    for (i, &c) in bytes.iter().enumerate() {
        match (in_quote, c) {
            (None, b'"' | b'\'') => in_quote = Some(c),
            (Some(q), _) if q == c => {
                in_quote = None;
                if !matches!(bytes.get(i + 1), None | Some(b' ' | b'\t' | b'\n' | b'\r')) {
                    return Err(bad("XML declaration: missing white space"));
                }
            }
            _ => {}
        }
    }
    Ok(())
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

/// The qualified name of an element exactly as written in the source (`saml:Assertion`).
pub fn element_qname<'i>(node: Node<'_, 'i>) -> &'i str {
    node.qname()
}

/// The prefix of an element as written in the source (`None` for an unprefixed name).
pub fn element_prefix<'i>(node: Node<'_, 'i>) -> Option<&'i str> {
    element_qname(node).split_once(':').map(|(p, _)| p)
}

/// The qualified name of an attribute exactly as written in the source.
pub fn attribute_qname<'i>(_node: Node<'_, 'i>, attr: &Attribute<'_, 'i>) -> &'i str {
    attr.qname()
}

/// True when `node` is the element `{ns}local`.
#[inline]
pub fn is(node: Node<'_, '_>, ns: &str, local: &str) -> bool {
    // `has_tag_name((ns, local))`, with the namespace looked up only when the local name
    // matches: whole-document scans (the single-assertion and ID checks) ask this of every node.
    match node.data().kind {
        Kind::Element {
            local: l, ns: n, ..
        } => str_eq(l, local) && opt_str_eq(node.doc.ns_uri(n), Some(ns)),
        _ => false,
    }
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
    fn str_eq_is_string_equality() {
        let ns = NS_ASSERTION;
        let mut near = ns.to_owned();
        near.pop();
        near.push('x');
        let long = "x".repeat(70);
        let mut long2 = long.clone();
        long2.replace_range(35..36, "y");
        let mut samples = vec![
            "",
            "a",
            "b",
            "ab",
            "saml",
            "samp",
            "samlp",
            "ID",
            "saml:Attribute",
            "saml:AttributeValue",
            "saml:AttributeValuf",
            "xaml:AttributeValue",
            "12345678",
            "12345679",
            "123456789",
            "é",
            "e\u{301}",
        ];
        samples.extend([ns, near.as_str(), long.as_str(), long2.as_str()]);
        for a in &samples {
            for b in &samples {
                assert_eq!(str_eq(a, b), a == b, "{a:?} {b:?}");
                assert_eq!(opt_str_eq(Some(a), Some(b)), a == b);
            }
            assert!(!opt_str_eq(Some(a), None));
        }
        assert!(opt_str_eq(None, None));
    }

    #[test]
    fn contains_any_finds_every_byte_of_the_set_anywhere() {
        let set = [b'&', b'<', b'\t', b'\n', b'\r'];
        for len in 0..40 {
            // No byte outside the set is a false positive, whatever its value.
            for filler in 0..=255u8 {
                if !set.contains(&filler) {
                    assert!(!contains_any(&vec![filler; len], set), "{filler} x {len}");
                }
            }
            for pos in 0..len {
                for c in set {
                    let mut v = vec![b'a'; len];
                    if let Some(slot) = v.get_mut(pos) {
                        *slot = c;
                    }
                    assert!(contains_any(&v, set), "{c} at {pos} of {len}");
                }
            }
        }
    }

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
    fn namespace_scopes_are_bounded() {
        // 60 nested elements declaring 60 prefixes each, then many declaring siblings: every
        // sibling's in-scope list would copy 3 600 entries.
        let mut doc = String::new();
        for d in 0..60 {
            doc.push_str("<e");
            for k in 0..60 {
                doc.push_str(&format!(" xmlns:p{d}x{k}=\"u\""));
            }
            doc.push('>');
        }
        for _ in 0..200 {
            doc.push_str("<s xmlns:q=\"v\"/>");
        }
        for _ in 0..60 {
            doc.push_str("</e>");
        }
        let l = Limits {
            max_nodes: 100_000,
            max_attributes: 64,
            max_depth: 64,
            max_bytes: 1 << 20,
        };
        assert_eq!(
            parse(&doc, &l).expect_err("bounded"),
            Error::TooManyNodes(100_000)
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

    fn malformed(input: &str) -> String {
        match parse(input, &Limits::default()) {
            Err(Error::MalformedXml(m)) => m,
            other => panic!("{input:?} must be MalformedXml, got {other:?}"),
        }
    }

    #[test]
    fn well_formedness_rules_are_enforced_with_typed_errors() {
        let cases: &[(&str, &str)] = &[
            // XML 1.0 §2.2 Char, literally and through character references (WFC: Legal Char).
            ("<a>\u{1}</a>", "illegal character"),
            ("<a b=\"\u{8}\"/>", "illegal character"),
            ("<a>\u{FFFE}</a>", "illegal character"),
            ("<a>\u{FFFF}</a>", "illegal character"),
            ("<a>&#0;</a>", "invalid character reference"),
            ("<a>&#xD800;</a>", "invalid character reference"),
            ("<a>&#x110000;</a>", "invalid character reference"),
            ("<a>&#xFFFE;</a>", "invalid character reference"),
            ("<a>&#99999999999;</a>", "invalid character reference"),
            ("<a>&#x;</a>", "invalid character reference"),
            ("<a>&#+65;</a>", "invalid character reference"),
            ("<a b=\"&#1;\"/>", "invalid character reference"),
            // References: terminated, and nothing but the five predefined entities.
            ("<a>&amp</a>", ""),
            ("<a>& b</a>", ""),
            ("<a b=\"&\"/>", "unterminated reference"),
            ("<a b=\"&amp\"/>", "unterminated reference"),
            ("<a>&1x;</a>", "invalid reference"),
            // Names (§2.3, Namespaces §3 QName/NCName).
            ("<1a/>", "invalid name"),
            ("<-a/>", "invalid name"),
            ("<\u{B7}a/>", "invalid name"),
            ("<\u{37E}/>", "invalid name"),
            ("<:a/>", "invalid name"),
            ("<a:/>", "invalid name"),
            ("<a:b:c xmlns:a=\"u\"/>", "invalid name"),
            ("< a/>", "invalid name"),
            ("<a/ >", "invalid name"),
            ("<a 1b=\"x\"/>", "invalid name"),
            ("<a b:=\"x\"/>", "invalid name"),
            ("<a><?p:i?></a>", "invalid processing instruction target"),
            ("<a><?xMl x?></a>", "XML declaration not at the start"),
            // Tags (§3.1): matching, attribute syntax, separation, `<` in values.
            ("<a><b></a></b>", ""),
            ("<a></b>", ""),
            ("<a></a b>", ""),
            ("</a>", ""),
            ("<a>", "unclosed element"),
            ("<a b/>", ""),
            ("<a b=1/>", ""),
            ("<a b=\"1\"c=\"2\"/>", "not separated by white space"),
            ("<a b=\"<\"/>", "'<' in an attribute value"),
            // WFC: Unique Att Spec, by qualified and by expanded name (Namespaces §6.3).
            ("<a b=\"1\" b=\"2\"/>", "duplicate attribute"),
            ("<a xmlns=\"u\" xmlns=\"v\"/>", "duplicate attribute"),
            ("<a xmlns:p=\"u\" xmlns:p=\"v\"/>", "duplicate attribute"),
            (
                "<a xmlns:p=\"u\" xmlns:q=\"u\" p:x=\"1\" q:x=\"2\"/>",
                "duplicate attribute",
            ),
            // Namespaces §3 constraints.
            ("<p:a/>", "undeclared prefix"),
            ("<a p:x=\"1\"/>", "undeclared prefix"),
            ("<a xmlns:p=\"\"/>", "empty namespace"),
            ("<a xmlns:xml=\"urn:x\"/>", "invalid binding"),
            (
                "<a xmlns:p=\"http://www.w3.org/XML/1998/namespace\"/>",
                "invalid binding",
            ),
            (
                "<a xmlns:p=\"http://www.w3.org/2000/xmlns/\"/>",
                "invalid binding",
            ),
            (
                "<a xmlns:xmlns=\"urn:x\"/>",
                "xmlns prefix cannot be declared",
            ),
            (
                "<a xmlns=\"http://www.w3.org/XML/1998/namespace\"/>",
                "reserved namespace",
            ),
            (
                "<a xmlns=\"http://www.w3.org/2000/xmlns/\"/>",
                "reserved namespace",
            ),
            ("<xmlns:a/>", "xmlns or xml prefix"),
            // Document structure (§2.1): one root, nothing but Misc outside it.
            ("", "no root element"),
            ("<!--c-->", "no root element"),
            ("<a/><b/>", "more than one root element"),
            ("<a/>x", "character data outside the root element"),
            ("x<a/>", "character data outside the root element"),
            ("<a/>&amp;", "character data outside the root element"),
            (
                "<a/><![CDATA[x]]>",
                "character data outside the root element",
            ),
            // Character data, comments (§2.4, §2.5), CDATA (§2.7).
            ("<a>]]></a>", "']]>' in character data"),
            ("<a><!-- a -- b --></a>", ""),
            ("<a><!-- a ---></a>", ""),
            ("<a><![cdata[x]]></a>", ""),
            // XML declaration (§2.8): first, well-formed.
            (
                " <?xml version=\"1.0\"?><a/>",
                "XML declaration not at the start",
            ),
            (
                "<a/><?xml version=\"1.0\"?>",
                "XML declaration not at the start",
            ),
            (
                "<?XML version=\"1.0\"?><a/>",
                "XML declaration not at the start",
            ),
            ("<?xml?><a/>", "without version"),
            ("<?xml encoding=\"UTF-8\"?><a/>", "unexpected"),
            ("<?xml version=\"2.0\"?><a/>", "bad version"),
            (
                "<?xml version=\"1.0\" standalone=\"maybe\"?><a/>",
                "bad standalone",
            ),
            ("<?xml version=\"1.0\" foo=\"bar\"?><a/>", "unexpected"),
            (
                "<?xml standalone=\"yes\" version=\"1.0\"?><a/>",
                "unexpected",
            ),
            (
                "<?xml version=\"1.0\"encoding=\"UTF-8\"?><a/>",
                "missing white space",
            ),
        ];
        for (input, want) in cases {
            let got = malformed(input);
            assert!(got.contains(want), "{input:?}: {got:?} lacks {want:?}");
        }
        // Anything needing a DTD is DtdForbidden, whatever the case or place.
        for input in [
            "<!doctype a><a/>",
            "<a>&foo;</a>",
            "<a b=\"&foo;\"/>",
            // Refused wherever it appears, and before any other error.
            "<a><!-- <!DOCTYPE x> --></a>",
            "<a><![CDATA[<!ENTITY x \"y\">]]></a>",
            "<a>\u{1}<!ENTITY x \"y\"></a>",
        ] {
            assert_eq!(
                parse(input, &Limits::default()).expect_err(input),
                Error::DtdForbidden
            );
        }
    }

    #[test]
    fn normalization_and_references_build_the_xpath_data_model() {
        let l = Limits::default();
        // §2.11 line ends everywhere, §3.3.3 attribute values, §4.6 entities, §4.1 char refs.
        let doc = parse(
            "<a b=\" x\ty\nz\r\nw\rv &#9;&#10;&#13;&#32;&lt;&amp;\" c='\"'>1\r\n2\r3&#13;&#x41;&lt;<![CDATA[<&\r\n]]>&gt;<!--x\r\ny--><?p d\r\ne?></a>",
            &l,
        )
        .expect("parse");
        let a = doc.root_element();
        assert_eq!(a.attribute("b"), Some(" x y z w v \t\n\r <&"));
        assert_eq!(a.attribute("c"), Some("\""));
        let kids: Vec<_> = a.children().collect();
        assert_eq!(kids.len(), 3, "{kids:?}");
        assert_eq!(kids[0].text(), Some("1\n2\n3\rA<<&\n>"));
        assert_eq!(kids[1].text(), Some("x\ny"));
        assert_eq!(
            kids[2].pi(),
            Some(PI {
                target: "p",
                value: Some("d\ne")
            })
        );
        // Comments split text nodes; empty CDATA makes none.
        let doc = parse("<a>x<!--c-->y<![CDATA[]]></a>", &l).expect("parse");
        let kinds: Vec<_> = doc
            .root_element()
            .children()
            .map(|n| n.node_type())
            .collect();
        assert_eq!(kinds, [NodeType::Text, NodeType::Comment, NodeType::Text]);
        // Legal non-ASCII names (NameStartChar / NameChar ranges).
        assert!(parse("<é\u{B7}\u{300}\u{203F} \u{10000}=\"1\"/>", &l).is_ok());
        assert!(parse("<a\tb=\"1\"\nc='2'\r\n/>", &l).is_ok());
        assert!(parse(
            "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\" ?>\n<a></a >\n",
            &l
        )
        .is_ok());
    }

    #[test]
    fn namespaces_resolve_per_element() {
        let doc = parse(
            r#"<a xmlns="urn:d" xmlns:p="urn:p" p:x="1" y="2" xml:lang="en"><b xmlns=""><p:c xmlns:p="urn:q"/></b></a>"#,
            &Limits::default(),
        )
        .expect("parse");
        let a = doc.root_element();
        assert_eq!(a.tag_name().namespace(), Some("urn:d"));
        assert_eq!(a.attribute(("urn:p", "x")), Some("1"));
        assert_eq!(a.attribute("y"), Some("2"));
        assert_eq!(a.attribute((NS_XML, "lang")), Some("en"));
        assert_eq!(a.attribute("x"), None);
        assert_eq!(
            a.attributes().len(),
            3,
            "namespace declarations are not attributes"
        );
        assert_eq!(a.lookup_namespace_uri(Some("xml")), Some(NS_XML));
        let b = a.first_element_child().expect("b");
        assert_eq!(b.tag_name().namespace(), None);
        assert_eq!(b.lookup_namespace_uri(None), Some(""));
        let c = b.first_element_child().expect("c");
        assert!(c.has_tag_name(("urn:q", "c")));
        assert_eq!(c.lookup_namespace_uri(Some("p")), Some("urn:q"));
        assert_eq!(c.namespaces().count(), 2);
        assert_eq!(c.parent_element(), Some(b));
        assert_eq!(c.ancestors().count(), 4);
        assert_eq!(doc.descendants().count(), 4);
        assert_eq!(
            &doc.input_text()[b.range()],
            r#"<b xmlns=""><p:c xmlns:p="urn:q"/></b>"#
        );
        assert_eq!(&doc.input_text()[c.range()], r#"<p:c xmlns:p="urn:q"/>"#);
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

    /// The memo of checked names: repeated names split the same way, and a bad name that
    /// lands in the slot of a good one (same length and last byte) is still refused.
    #[test]
    fn remembered_names_are_checked_names() {
        let doc = parse(
            r#"<p:a xmlns:p="urn:x" p:b="1"><p:a p:b="2"/><c b="3"/><c/></p:a>"#,
            &Limits::default(),
        )
        .expect("parse");
        let root = doc.root_element();
        let kids: Vec<_> = root.children().filter(|n| n.is_element()).collect();
        assert_eq!(element_qname(kids[0]), "p:a");
        assert_eq!(kids[0].tag_name().name(), "a");
        assert_eq!(kids[0].tag_name().namespace(), Some("urn:x"));
        assert_eq!(kids[0].attribute(("urn:x", "b")), Some("2"));
        assert_eq!(kids[1].attribute("b"), Some("3"));
        for bad in [
            r#"<p:a xmlns:p="urn:x"><p:a/><-:a/></p:a>"#,
            r#"<p:a xmlns:p="urn:x" p:b="1"><c p:b="2" -:b="3"/></p:a>"#,
            r#"<ab><ab/><a.b/><1b/></ab>"#,
        ] {
            assert!(parse(bad, &Limits::default()).is_err(), "{bad}");
        }
    }
}
