//! Canonical XML 1.0 (W3C REC xml-c14n-20010315), Canonical XML 1.1 (W3C REC xml-c14n11) and
//! Exclusive XML Canonicalization 1.0 (W3C REC xml-exc-c14n), with and without comments, over a
//! subtree (the XML-DSig same-document reference case) or over an arbitrary document subset
//! described by a [`NodeSet`] (C14N 1.0 §2.3 / Exc-C14N §3 "document subsets").
//!
//! Input is the XPath data model as [`crate::xml`] builds it: entity and character references
//! expanded, attribute values normalized, line endings normalized, CDATA merged into text
//! (C14N 1.0 §1.1 and §2.1), so the rules below only concern namespace and attribute rendering,
//! ordering and escaping.

use crate::xml::{Attribute, Node, NodeId, NodeType};

use crate::error::{Error, Result};
use crate::xml::{attribute_qname, contains_any, element_qname, NS_XML};

/// A canonicalization algorithm, identified in XML-DSig by its URI (XML-DSig 1.1 §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Canonical XML 1.0, without comments.
    C14n10,
    /// Canonical XML 1.0 with comments.
    C14n10WithComments,
    /// Canonical XML 1.1, without comments.
    C14n11,
    /// Canonical XML 1.1 with comments.
    C14n11WithComments,
    /// Exclusive C14N 1.0, without comments (the SAML default, SAML Core §5.4.3).
    ExcC14n,
    /// Exclusive C14N 1.0 with comments.
    ExcC14nWithComments,
}

impl Method {
    /// Every method, for tables and tests.
    pub const ALL: [Method; 6] = [
        Method::C14n10,
        Method::C14n10WithComments,
        Method::C14n11,
        Method::C14n11WithComments,
        Method::ExcC14n,
        Method::ExcC14nWithComments,
    ];

    /// The algorithm URI (XML-DSig 1.1 §6.5.1-6.5.3).
    pub fn uri(self) -> &'static str {
        match self {
            Method::C14n10 => "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
            Method::C14n10WithComments => {
                "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
            }
            Method::C14n11 => "http://www.w3.org/2006/12/xml-c14n11",
            Method::C14n11WithComments => "http://www.w3.org/2006/12/xml-c14n11#WithComments",
            Method::ExcC14n => "http://www.w3.org/2001/10/xml-exc-c14n#",
            Method::ExcC14nWithComments => "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
        }
    }

    /// The method for an algorithm URI, if it is one of the six.
    pub fn from_uri(uri: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.uri() == uri)
    }

    /// True for the `#WithComments` variants.
    pub fn with_comments(self) -> bool {
        matches!(
            self,
            Method::C14n10WithComments | Method::C14n11WithComments | Method::ExcC14nWithComments
        )
    }

    /// True for Exclusive C14N.
    pub fn is_exclusive(self) -> bool {
        matches!(self, Method::ExcC14n | Method::ExcC14nWithComments)
    }

    fn is_11(self) -> bool {
        matches!(self, Method::C14n11 | Method::C14n11WithComments)
    }
}

/// A document subset (an XPath node-set): which nodes, attributes and namespace nodes are in it.
/// Comments are additionally dropped by the without-comments methods.
pub trait NodeSet {
    /// Element, text, comment or processing-instruction node membership.
    fn contains_node(&self, node: Node<'_, '_>) -> bool;
    /// Attribute node membership (`element` owns it).
    fn contains_attribute(&self, element: Node<'_, '_>, attribute: &Attribute<'_, '_>) -> bool;
    /// Namespace node membership: `prefix` `None` is the default namespace.
    fn contains_namespace(&self, element: Node<'_, '_>, prefix: Option<&str>, uri: &str) -> bool;
}

/// Canonicalizes the subtree rooted at `apex` (an element, or the document root for the whole
/// document), leaving out the subtree at `exclude` (the enveloped-signature transform, XML-DSig
/// 1.1 §6.6.4). `inclusive_prefixes` is Exc-C14N's `InclusiveNamespaces PrefixList`
/// (`#default` names the default namespace); it is ignored by the inclusive methods.
pub fn canonicalize_subtree(
    apex: Node<'_, '_>,
    method: Method,
    inclusive_prefixes: &[String],
    exclude: Option<NodeId>,
) -> Result<Vec<u8>> {
    let mut w = Walker::new(method, inclusive_prefixes, None, exclude);
    // The canonical form is about as long as the source text of the subtree: sized once, the
    // buffer is not regrown (and copied) while a 10 KiB Assertion is written.
    w.out.reserve(apex.range().len() + apex.range().len() / 16);
    w.start(apex)?;
    Ok(w.out)
}

/// Canonicalizes the document subset `set` of the document that `root` belongs to.
pub fn canonicalize_subset(
    root: Node<'_, '_>,
    method: Method,
    inclusive_prefixes: &[String],
    set: &dyn NodeSet,
) -> Result<Vec<u8>> {
    let mut w = Walker::new(method, inclusive_prefixes, Some(set), None);
    w.start(root.document().root())?;
    Ok(w.out)
}

type Ns<'a> = (Option<&'a str>, &'a str);

struct Walker<'s> {
    method: Method,
    inclusive: Vec<Option<String>>,
    set: Option<&'s dyn NodeSet>,
    exclude: Option<NodeId>,
    out: Vec<u8>,
}

/// String equality with a pointer fast path: prefixes and URIs taken from the same namespace
/// declaration are the same slice.
#[inline]
fn same(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || crate::xml::str_eq(a, b)
}

#[inline]
fn same_opt(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same(a, b),
        _ => false,
    }
}

/// Byte-wise order of two strings (`str`'s `Ord`), inline: attribute names and namespace URIs
/// differ early or are equal, where `Ord` pays a `memcmp` call each time.
#[inline]
fn cmp_bytes(a: &str, b: &str) -> std::cmp::Ordering {
    for (x, y) in a.bytes().zip(b.bytes()) {
        if x != y {
            return x.cmp(&y);
        }
    }
    a.len().cmp(&b.len())
}

/// C14N 1.0 §2.2 attribute order: namespace URI first (none sorts first), then local name.
#[inline]
fn attr_order(a: (&str, &str), b: (&str, &str)) -> std::cmp::Ordering {
    let ns = if same(a.0, b.0) {
        std::cmp::Ordering::Equal
    } else {
        cmp_bytes(a.0, b.0)
    };
    ns.then_with(|| cmp_bytes(a.1, b.1))
}

fn ctx_get<'a>(ctx: &[Ns<'a>], prefix: Option<&str>) -> Option<&'a str> {
    ctx.iter()
        .find(|(p, _)| same_opt(*p, prefix))
        .map(|(_, u)| *u)
}

fn ctx_set<'a>(ctx: &mut Vec<Ns<'a>>, prefix: Option<&'a str>, uri: &'a str) {
    match ctx.iter_mut().find(|(p, _)| same_opt(*p, prefix)) {
        Some(slot) => slot.1 = uri,
        None => ctx.push((prefix, uri)),
    }
}

impl<'s> Walker<'s> {
    fn new(
        method: Method,
        prefixes: &[String],
        set: Option<&'s dyn NodeSet>,
        exclude: Option<NodeId>,
    ) -> Self {
        let inclusive = if method.is_exclusive() {
            prefixes
                .iter()
                .map(|p| (p != "#default").then(|| p.clone()))
                .collect()
        } else {
            Vec::new()
        };
        Walker {
            method,
            inclusive,
            set,
            exclude,
            out: Vec::with_capacity(4096),
        }
    }

    fn in_set(&self, node: Node<'_, '_>) -> bool {
        if node.is_comment() && !self.method.with_comments() {
            return false;
        }
        self.set.is_none_or(|s| s.contains_node(node))
    }

    fn start<'a, 'i>(&mut self, apex: Node<'a, 'i>) -> Result<()> {
        let ctx: Vec<Ns<'a>> = Vec::new();
        if apex.node_type() == NodeType::Root {
            let root_el = apex.document().root_element();
            let mut after = false;
            for child in apex.children() {
                if Some(child.id()) == self.exclude {
                    continue;
                }
                if child.id() == root_el.id() {
                    self.walk(child, &ctx, false)?;
                    after = true;
                    continue;
                }
                if !(child.is_comment() || child.is_pi()) || !self.in_set(child) {
                    continue;
                }
                // C14N 1.0 §2.1: a #xA separates document-level nodes from the document element.
                if after {
                    self.out.push(b'\n');
                }
                self.leaf(child);
                if !after {
                    self.out.push(b'\n');
                }
            }
            Ok(())
        } else {
            self.walk(apex, &ctx, false)
        }
    }

    fn leaf(&mut self, node: Node<'_, '_>) {
        match node.node_type() {
            NodeType::Text => {
                push_text(&mut self.out, node.text().unwrap_or(""));
            }
            NodeType::Comment => {
                self.out.extend_from_slice(b"<!--");
                self.out
                    .extend_from_slice(node.text().unwrap_or("").as_bytes());
                self.out.extend_from_slice(b"-->");
            }
            NodeType::PI => {
                if let Some(pi) = node.pi() {
                    self.out.extend_from_slice(b"<?");
                    self.out.extend_from_slice(pi.target.as_bytes());
                    if let Some(v) = pi.value.filter(|v| !v.is_empty()) {
                        self.out.push(b' ');
                        self.out.extend_from_slice(v.as_bytes());
                    }
                    self.out.extend_from_slice(b"?>");
                }
            }
            NodeType::Root | NodeType::Element => {}
        }
    }

    fn walk<'a, 'i>(
        &mut self,
        node: Node<'a, 'i>,
        ctx: &[Ns<'a>],
        parent_in_set: bool,
    ) -> Result<()> {
        if Some(node.id()) == self.exclude {
            return Ok(());
        }
        if !node.is_element() {
            if self.in_set(node) {
                self.leaf(node);
            }
            return Ok(());
        }
        let visible = self.in_set(node);
        if !visible {
            if self.set.is_some() {
                self.orphans(node, ctx);
            }
            for child in node.children() {
                self.walk(child, ctx, false)?;
            }
            return Ok(());
        }
        let qname = element_qname(node);
        if self.plain_start_tag(node, qname, ctx) {
            for child in node.children() {
                self.walk(child, ctx, true)?;
            }
            self.out.extend_from_slice(b"</");
            self.out.extend_from_slice(qname.as_bytes());
            self.out.push(b'>');
            return Ok(());
        }
        let next_ctx = self.start_tag(node, qname, ctx, parent_in_set)?;
        let child_ctx = next_ctx.as_deref().unwrap_or(ctx);
        for child in node.children() {
            self.walk(child, child_ctx, true)?;
        }
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(qname.as_bytes());
        self.out.push(b'>');
        Ok(())
    }

    /// Namespace and attribute nodes in the node-set whose element is not (C14N 1.0 §2.3: they
    /// are processed like attribute nodes, i.e. rendered on their own).
    fn orphans(&mut self, el: Node<'_, '_>, ctx: &[Ns<'_>]) {
        let mut emit: Vec<Ns<'_>> = Self::namespace_nodes(el)
            .into_iter()
            .filter(|(p, u)| {
                (!self.method.is_exclusive() || self.inclusive.iter().any(|i| i.as_deref() == *p))
                    && self.ns_in_set(el, *p, u)
                    && ctx_get(ctx, *p) != Some(*u)
            })
            .collect();
        emit.sort_by(|a, b| a.0.unwrap_or("").cmp(b.0.unwrap_or("")));
        let mut attrs: Vec<_> = el
            .attributes()
            .filter(|a| self.attr_in_set(el, a))
            .map(|a| {
                (
                    a.namespace().unwrap_or(""),
                    a.name(),
                    attribute_qname(el, &a),
                    a.value(),
                )
            })
            .collect();
        attrs.sort_by(|a, b| attr_order((a.0, a.1), (b.0, b.1)));
        self.push_ns_and_attrs(&emit, attrs.iter().map(|(_, _, q, v)| (*q, *v)));
    }

    fn push_ns_and_attrs<'x>(
        &mut self,
        ns: &[Ns<'_>],
        attrs: impl Iterator<Item = (&'x str, &'x str)>,
    ) {
        for (p, u) in ns {
            match p {
                Some(p) => {
                    self.out.extend_from_slice(b" xmlns:");
                    self.out.extend_from_slice(p.as_bytes());
                }
                None => self.out.extend_from_slice(b" xmlns"),
            }
            self.out.extend_from_slice(b"=\"");
            push_attr(&mut self.out, u);
            self.out.push(b'"');
        }
        for (q, v) in attrs {
            self.out.push(b' ');
            self.out.extend_from_slice(q.as_bytes());
            self.out.extend_from_slice(b"=\"");
            push_attr(&mut self.out, v);
            self.out.push(b'"');
        }
    }

    fn ns_in_set(&self, el: Node<'_, '_>, prefix: Option<&str>, uri: &str) -> bool {
        self.set
            .is_none_or(|s| s.contains_namespace(el, prefix, uri))
    }

    fn attr_in_set(&self, el: Node<'_, '_>, a: &Attribute<'_, '_>) -> bool {
        self.set.is_none_or(|s| s.contains_attribute(el, a))
    }

    /// The namespace nodes of `el` (XPath data model: every in-scope binding except `xml`, no
    /// node for an empty default namespace).
    fn namespace_nodes<'a>(el: Node<'a, '_>) -> Vec<Ns<'a>> {
        el.namespaces()
            .filter(|n| n.name() != Some("xml"))
            .filter(|n| n.name().is_some() || !n.uri().is_empty())
            .map(|n| (n.name(), n.uri()))
            .collect()
    }

    /// Exclusive C14N of a whole subtree (no node-set, no PrefixList), the case of every SAML
    /// signature: an element without attributes whose name's namespace binding an output
    /// ancestor already rendered with the same URI (or, unqualified in no namespace, under no
    /// rendered non-empty default) has nothing to render but its name (Exc-C14N §3: its only
    /// visibly utilized prefix is its own). Writes `<qname>` and returns `true` then; `false`
    /// (nothing written) sends the element through [`Self::start_tag`], which gives the same
    /// output for these elements, only slower.
    fn plain_start_tag(&mut self, el: Node<'_, '_>, qname: &str, ctx: &[Ns<'_>]) -> bool {
        if !self.method.is_exclusive()
            || self.set.is_some()
            || !self.inclusive.is_empty()
            || el.attributes().len() != 0
        {
            return false;
        }
        let done = match el.namespace_binding() {
            Some(b) => ctx_get(ctx, b.name()).is_some_and(|r| same(r, b.uri())),
            // Unqualified in no namespace: `xmlns=""` is only needed under a rendered default.
            None => !qname.contains(':') && ctx_get(ctx, None).is_none_or(str::is_empty),
        };
        if done {
            self.out.push(b'<');
            self.out.extend_from_slice(qname.as_bytes());
            self.out.push(b'>');
        }
        done
    }

    fn start_tag<'a, 'i>(
        &mut self,
        el: Node<'a, 'i>,
        qname: &'a str,
        ctx: &[Ns<'a>],
        parent_in_set: bool,
    ) -> Result<Option<Vec<Ns<'a>>>> {
        let mut emit: Vec<Ns<'a>> = Vec::new();
        let next_ctx: Option<Vec<Ns<'a>>> = if self.method.is_exclusive() {
            // Exc-C14N §3: render a namespace node when visibly utilized (element prefix, or the
            // prefix of an attribute in the node-set) and not already rendered with this value
            // by an output ancestor; PrefixList prefixes are treated as in C14N.
            let mut rendered = Lazy {
                base: ctx,
                own: None,
            };
            // Visibly utilized prefixes with the binding they resolved to at parse time (the
            // element's own name always resolves; an unprefixed name in no namespace has none).
            type Utilized<'a> = (Option<&'a str>, Option<&'a str>);
            let mut utilized: [Option<Utilized<'a>>; 8] = [None; 8];
            let mut extra: Vec<Utilized<'a>> = Vec::new();
            utilized[0] = Some(match el.namespace_binding() {
                Some(b) => (b.name(), Some(b.uri())),
                None => (qname.split_once(':').map(|(p, _)| p), None),
            });
            let mut n = 1;
            for a in el.attributes() {
                if a.namespace().is_some()
                    && a.namespace() != Some(NS_XML)
                    && self.attr_in_set(el, &a)
                {
                    if let Some(b) = a.namespace_binding().filter(|b| b.name().is_some()) {
                        let p = b.name();
                        let seen = |u: &Option<Utilized<'_>>| u.is_some_and(|u| same_opt(u.0, p));
                        if utilized.iter().any(seen) || extra.iter().any(|u| same_opt(u.0, p)) {
                            continue;
                        }
                        let entry = (p, Some(b.uri()));
                        match utilized.get_mut(n) {
                            Some(slot) => *slot = Some(entry),
                            None => extra.push(entry),
                        }
                        n += 1;
                    }
                }
            }
            let default_listed = self.inclusive.iter().any(Option::is_none);
            for (p, known) in utilized.iter().flatten().copied().chain(extra) {
                // Only namespace nodes in the node-set are candidates (a missing default
                // namespace node reads as the empty default).
                let uri = known
                    .or_else(|| el.lookup_namespace_uri(p))
                    .filter(|u| !(p.is_none() && u.is_empty()))
                    .filter(|u| self.ns_in_set(el, p, u));
                match (p, uri) {
                    (None, None) => {
                        if rendered.get(None).is_some_and(|u| !u.is_empty()) {
                            emit.push((None, ""));
                            rendered.set(None, "");
                        }
                    }
                    (_, Some(uri)) => {
                        if !rendered.get(p).is_some_and(|r| same(r, uri)) {
                            emit.push((p, uri));
                            rendered.set(p, uri);
                        }
                    }
                    // Utilized but its namespace node is outside the node-set: nothing is
                    // rendered, and descendants may not rely on an ancestor's rendering.
                    (Some(_), None) => rendered.remove(p),
                }
            }
            if !self.inclusive.is_empty() {
                for (p, uri) in Self::namespace_nodes(el) {
                    let listed = self.inclusive.iter().any(|i| i.as_deref() == p);
                    if listed
                        && self.ns_in_set(el, p, uri)
                        && rendered.get(p) != Some(uri)
                        && !emit.iter().any(|(e, _)| *e == p)
                    {
                        emit.push((p, uri));
                        rendered.set(p, uri);
                    }
                }
            }
            // `#default` in the PrefixList: C14N's xmlns="" rule for the default namespace.
            if default_listed
                && !emit.iter().any(|(e, _)| e.is_none())
                && el
                    .lookup_namespace_uri(None)
                    .filter(|u| !u.is_empty() && self.ns_in_set(el, None, u))
                    .is_none()
                && rendered.get(None).is_some_and(|u| !u.is_empty())
            {
                emit.push((None, ""));
                rendered.set(None, "");
            }
            rendered.own
        } else {
            // C14N 1.0 §2.3 / 1.1 §2.3: a namespace node is output unless the nearest output
            // ancestor has the same namespace node in the node-set; xmlns="" is output when the
            // element has no default namespace node but that ancestor has a non-empty one.
            let own: Vec<Ns<'a>> = Self::namespace_nodes(el)
                .into_iter()
                .filter(|(p, u)| self.ns_in_set(el, *p, u))
                .collect();
            for &(p, u) in &own {
                if ctx_get(ctx, p) != Some(u) {
                    emit.push((p, u));
                }
            }
            if ctx_get(&own, None).is_none() && ctx_get(ctx, None).is_some_and(|u| !u.is_empty()) {
                emit.push((None, ""));
            }
            Some(own)
        };
        if emit.len() > 1 {
            emit.sort_by(|a, b| a.0.unwrap_or("").cmp(b.0.unwrap_or("")));
        }

        // Attributes: those in the node-set, plus (inclusive methods, element whose parent is
        // not in the node-set) the xml:* attributes inherited from ancestors (C14N 1.0 §2.4,
        // C14N 1.1 §2.4 limits this to xml:lang and xml:space, xml:base needs fix-up).
        let mut attrs: Vec<(&str, &str, &str, &str)> = Vec::with_capacity(el.attributes().len());
        for a in el.attributes() {
            if self.attr_in_set(el, &a) {
                attrs.push((
                    a.namespace().unwrap_or(""),
                    a.name(),
                    attribute_qname(el, &a),
                    a.value(),
                ));
            }
        }
        if !self.method.is_exclusive() && !parent_in_set {
            for anc in el.ancestors().skip(1).filter(|n| n.is_element()) {
                for a in anc.attributes().filter(|a| a.namespace() == Some(NS_XML)) {
                    if attrs
                        .iter()
                        .any(|(ns, l, _, _)| *ns == NS_XML && *l == a.name())
                    {
                        continue;
                    }
                    if self.method.is_11() {
                        match a.name() {
                            "lang" | "space" => {}
                            "base" => {
                                return Err(Error::Unsupported(
                                    "C14N 1.1 xml:base fix-up on a document subset".into(),
                                ))
                            }
                            _ => continue,
                        }
                    }
                    attrs.push((NS_XML, a.name(), attribute_qname(anc, &a), a.value()));
                }
            }
        }
        if attrs.len() > 1 {
            attrs.sort_by(|a, b| attr_order((a.0, a.1), (b.0, b.1)));
        }

        self.out.push(b'<');
        self.out.extend_from_slice(qname.as_bytes());
        self.push_ns_and_attrs(&emit, attrs.iter().map(|(_, _, q, v)| (*q, *v)));
        self.out.push(b'>');
        Ok(next_ctx)
    }
}

/// A namespace context that is only copied when an element changes it.
struct Lazy<'c, 'a> {
    base: &'c [Ns<'a>],
    own: Option<Vec<Ns<'a>>>,
}

impl<'a> Lazy<'_, 'a> {
    fn get(&self, prefix: Option<&str>) -> Option<&'a str> {
        ctx_get(self.own.as_deref().unwrap_or(self.base), prefix)
    }
    fn set(&mut self, prefix: Option<&'a str>, uri: &'a str) {
        let own = self.own.get_or_insert_with(|| self.base.to_vec());
        ctx_set(own, prefix, uri);
    }
    fn remove(&mut self, prefix: Option<&str>) {
        if self.get(prefix).is_some() {
            let own = self.own.get_or_insert_with(|| self.base.to_vec());
            own.retain(|(q, _)| !same_opt(*q, prefix));
        }
    }
}

/// Appends `s`, replacing the bytes `rep` maps; the common no-escape case is one copy.
#[inline]
fn push_escaped(out: &mut Vec<u8>, s: &str, rep: impl Fn(u8) -> Option<&'static [u8]>) {
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(off) = bytes
        .get(start..)
        .and_then(|rest| rest.iter().position(|&b| rep(b).is_some()))
    {
        let i = start + off;
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        out.extend_from_slice(bytes.get(i).copied().and_then(&rep).unwrap_or_default());
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

/// C14N 1.0 §2.3 text node escaping.
fn push_text(out: &mut Vec<u8>, s: &str) {
    // Fast path: text without special characters (nearly all SAML text) is copied as is.
    let bytes = s.as_bytes();
    if !contains_any(bytes, [b'&', b'<', b'>', b'\r']) {
        out.extend_from_slice(bytes);
        return;
    }
    push_escaped(out, s, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// C14N 1.0 §2.3 attribute value escaping.
fn push_attr(out: &mut Vec<u8>, s: &str) {
    if !contains_any(s.as_bytes(), [b'&', b'<', b'"', b'\t', b'\n', b'\r']) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    push_escaped(out, s, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#x9;"),
        b'\n' => Some(b"&#xA;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    /// The subtree of `apex` as an explicit node-set: canonicalizing it takes the general path
    /// (no shortcut applies to node-sets), which must give the subtree's canonical form.
    struct Subtree(std::ops::Range<usize>);

    impl NodeSet for Subtree {
        fn contains_node(&self, node: Node<'_, '_>) -> bool {
            self.0.contains(&node.id().get_usize())
        }
        fn contains_attribute(&self, element: Node<'_, '_>, _: &Attribute<'_, '_>) -> bool {
            self.contains_node(element)
        }
        fn contains_namespace(&self, element: Node<'_, '_>, _: Option<&str>, _: &str) -> bool {
            self.contains_node(element)
        }
    }

    // The plain-element shortcut of Exclusive C14N (no attributes, name's binding already
    // rendered) against the general rules, on every element of documents that redeclare,
    // shadow and undeclare namespaces around plain elements.
    #[test]
    fn exclusive_plain_element_shortcut_matches_the_general_rules() {
        let docs = [
            r#"<a:r xmlns:a="urn:a" xmlns:b="urn:b"><a:x><a:y>t</a:y><b:z/></a:x></a:r>"#,
            r#"<r xmlns="urn:d"><x><y xmlns="urn:e"><z/></y><w xmlns=""><v/></w></x></r>"#,
            r#"<r><x xmlns="urn:d"><y/></x><z/></r>"#,
            r#"<a:r xmlns:a="urn:a"><a:x xmlns:a="urn:other"><a:y/></a:x><a:z/></a:r>"#,
            r#"<a:r xmlns:a="urn:a"><a:x at="1"><a:y/></a:x><p:q xmlns:p="urn:a"><a:s/></p:q></a:r>"#,
            r#"<r xmlns="urn:d"><a:x xmlns:a="urn:a"><y/><a:y/></a:x><z xmlns="urn:d"/></r>"#,
            r#"<r xmlns:a="urn:a"><x a:at="v"><a:y/></x><!-- c --><?pi x?><a:z>&amp;&lt;</a:z></r>"#,
        ];
        for xml in docs {
            let doc = parse(xml, &Limits::default()).expect("parse");
            for apex in doc.descendants().filter(Node::is_element) {
                let range =
                    apex.id().get_usize()..apex.id().get_usize() + apex.descendants().count();
                for method in [Method::ExcC14n, Method::ExcC14nWithComments] {
                    let fast = canonicalize_subtree(apex, method, &[], None).expect("subtree");
                    let general = canonicalize_subset(apex, method, &[], &Subtree(range.clone()))
                        .expect("subset");
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&general),
                        "{xml} at {apex:?} ({method:?})"
                    );
                }
            }
        }
    }

    #[test]
    fn attribute_order_is_str_order() {
        let names = [
            "", "a", "ab", "b", "ID", "Id", "id", "Version", "urn:a", "urn:ab", "é",
        ];
        for a in names {
            for b in names {
                assert_eq!(cmp_bytes(a, b), a.cmp(b), "{a:?} {b:?}");
                for n in ["", "urn:x"] {
                    assert_eq!(attr_order((n, a), (n, b)), (n, a).cmp(&(n, b)));
                    assert_eq!(attr_order((n, a), ("urn:y", b)), (n, a).cmp(&("urn:y", b)));
                }
            }
        }
    }

    fn c14n(xml: &str, method: Method) -> String {
        let doc = parse(xml, &Limits::default()).expect("parse");
        String::from_utf8(canonicalize_subtree(doc.root(), method, &[], None).expect("c14n"))
            .expect("utf8")
    }

    // W3C C14N 1.0 §3.1 (PIs, comments, outside of document element).
    #[test]
    fn spec_example_3_1() {
        let input = "<?xml version=\"1.0\"?>\n\n<?xml-stylesheet   href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n\n<doc>Hello, world!<!-- Comment 1 --></doc>\n\n<?pi-without-data     ?>\n\n<!-- Comment 2 -->\n\n<!-- Comment 3 -->";
        assert_eq!(
            c14n(input, Method::C14n10),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!</doc>\n<?pi-without-data?>"
        );
        assert_eq!(
            c14n(input, Method::C14n10WithComments),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!<!-- Comment 1 --></doc>\n<?pi-without-data?>\n<!-- Comment 2 -->\n<!-- Comment 3 -->"
        );
    }

    // W3C C14N 1.0 §3.3 (start and end tags), without the DTD-defaulted attributes.
    #[test]
    fn spec_example_3_3_like() {
        let input = r#"<doc>
   <e1   />
   <e2   ></e2>
   <e3   name = "elem3"   id="elem3"   />
   <e5 a:attr="out" b:attr="sorted" attr2="all" attr="I'm"
      xmlns:b="http://www.ietf.org"
      xmlns:a="http://www.w3.org"
      xmlns="http://example.org"/>
   <e6 xmlns="" xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="" xmlns:a="http://www.w3.org">
            <e9 xmlns="" xmlns:a="http://www.ietf.org"/>
         </e8>
      </e7>
   </e6>
</doc>"#;
        let expected = r#"<doc>
   <e1></e1>
   <e2></e2>
   <e3 id="elem3" name="elem3"></e3>
   <e5 xmlns="http://example.org" xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e5>
   <e6 xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="">
            <e9 xmlns:a="http://www.ietf.org"></e9>
         </e8>
      </e7>
   </e6>
</doc>"#;
        assert_eq!(c14n(input, Method::C14n10), expected);
    }

    // W3C C14N 1.0 §3.4 (character modifications and character references), DTD-free part.
    #[test]
    fn spec_example_3_4_like() {
        let input = "<doc>\r\n   <text>First line&#x0d;&#10;Second line</text>\n   <value>&#x32;</value>\n   <compute><![CDATA[value>\"0\" && value<\"10\" ?\"valid\":\"error\"]]></compute>\n   <compute expr='value>\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"'>valid</compute>\n   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n</doc>";
        let expected = "<doc>\n   <text>First line&#xD;\nSecond line</text>\n   <value>2</value>\n   <compute>value&gt;\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"</compute>\n   <compute expr=\"value>&quot;0&quot; &amp;&amp; value&lt;&quot;10&quot; ?&quot;valid&quot;:&quot;error&quot;\">valid</compute>\n   <norm attr=\" '    &#xD;&#xA;&#x9;   ' \"></norm>\n</doc>";
        assert_eq!(c14n(input, Method::C14n10), expected);
    }

    #[test]
    fn exclusive_omits_unused_namespaces_and_keeps_prefix_list() {
        let input = r#"<a:r xmlns:a="urn:a" xmlns:b="urn:b" xmlns:c="urn:c"><a:x b:at="1"><c:y/></a:x></a:r>"#;
        let doc = parse(input, &Limits::default()).expect("parse");
        let x = doc.root_element().first_element_child().expect("x");
        let exc = canonicalize_subtree(x, Method::ExcC14n, &[], None).expect("exc");
        assert_eq!(
            String::from_utf8(exc).expect("utf8"),
            r#"<a:x xmlns:a="urn:a" xmlns:b="urn:b" b:at="1"><c:y xmlns:c="urn:c"></c:y></a:x>"#
        );
        let incl = canonicalize_subtree(x, Method::C14n10, &[], None).expect("c14n");
        assert_eq!(
            String::from_utf8(incl).expect("utf8"),
            r#"<a:x xmlns:a="urn:a" xmlns:b="urn:b" xmlns:c="urn:c" b:at="1"><c:y></c:y></a:x>"#
        );
        let listed =
            canonicalize_subtree(x, Method::ExcC14n, &["c".to_owned()], None).expect("exc");
        assert_eq!(
            String::from_utf8(listed).expect("utf8"),
            r#"<a:x xmlns:a="urn:a" xmlns:b="urn:b" xmlns:c="urn:c" b:at="1"><c:y></c:y></a:x>"#
        );
    }

    #[test]
    fn subtree_inherits_xml_attributes_in_inclusive_only() {
        let input = r#"<r xml:lang="en" xmlns="urn:d"><s><t/></s></r>"#;
        let doc = parse(input, &Limits::default()).expect("parse");
        let s = doc.root_element().first_element_child().expect("s");
        let c = canonicalize_subtree(s, Method::C14n10, &[], None).expect("c14n");
        assert_eq!(
            String::from_utf8(c).expect("utf8"),
            r#"<s xmlns="urn:d" xml:lang="en"><t></t></s>"#
        );
        let e = canonicalize_subtree(s, Method::ExcC14n, &[], None).expect("exc");
        assert_eq!(
            String::from_utf8(e).expect("utf8"),
            r#"<s xmlns="urn:d"><t></t></s>"#
        );
    }

    #[test]
    fn exclusion_and_comments() {
        let input = r#"<r>a<!--c--><sig><x/></sig>b</r>"#;
        let doc = parse(input, &Limits::default()).expect("parse");
        let sig = doc
            .root_element()
            .children()
            .find(|n| n.is_element())
            .expect("sig");
        let c = canonicalize_subtree(doc.root_element(), Method::ExcC14n, &[], Some(sig.id()))
            .expect("c14n");
        assert_eq!(String::from_utf8(c).expect("utf8"), "<r>ab</r>");
        let c = canonicalize_subtree(doc.root_element(), Method::ExcC14nWithComments, &[], None)
            .expect("c14n");
        assert_eq!(
            String::from_utf8(c).expect("utf8"),
            "<r>a<!--c--><sig><x></x></sig>b</r>"
        );
    }
}
