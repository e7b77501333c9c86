//! Every field of every layer class, walked from its schema: the language reads it
//! (`p.name`), writes back what it read (`p.name = v`), `ls()` lists it, completion
//! and `help(X)` offer it, and the field tree and JSON write it. A field added to a
//! schema in `packet/schema/` is checked here without another edit.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use super::{attr_names, default_layer, fields, get_field, set_field};
use crate::lang::call::LayerKind;
use crate::lang::net::DryRun;
use crate::lang::Interp;
use crate::packet::display::{json, show};
use crate::packet::Packet;

/// What the interpreter printed.
#[derive(Clone, Default)]
struct Out(Rc<RefCell<Vec<u8>>>);

impl Write for Out {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Out {
    fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.0.borrow_mut())).into_owned()
    }
}

fn run(it: &mut Interp, out: &Out, src: &str) -> String {
    if let Err(e) = it.run_source("<t>", src, 1) {
        panic!("{src}: {e:?}");
    }
    out.take()
}

#[test]
fn every_schema_field_is_read_written_listed_offered_shown_and_in_json() {
    let out = Out::default();
    let mut it = Interp::new(
        Box::new(DryRun::new(Box::new(|_| {}))),
        Box::new(out.clone()),
    );
    let all = run(&mut it, &out, "ls()");
    for k in LayerKind::ALL {
        let class = k.name();
        let listed = run(&mut it, &out, &format!("ls({class})"));
        let values = run(&mut it, &out, &format!("ls({class}())"));
        let help = run(&mut it, &out, &format!("help({class})"));
        let summary = all
            .lines()
            .find(|l| l.split_whitespace().next() == Some(class))
            .unwrap_or_else(|| panic!("ls() misses {class}:\n{all}"));
        let layer = default_layer(&mut it, k);
        let p = Packet::new(vec![layer.clone()]);
        let tree = show(&p);
        let j = json(&p);
        let names = attr_names(&p);
        for f in fields(k) {
            let what = format!("{class}.{}", f.name);
            // read, and written back unchanged
            let v = get_field(&layer, f.name).unwrap_or_else(|| panic!("{what} does not read"));
            let mut l = layer.clone();
            if let Err(e) = set_field(&mut l, f.name, &v) {
                panic!("{what} does not take what it read: {e:?}");
            }
            assert_eq!(l, layer, "{what}");
            // the same through the language
            run(
                &mut it,
                &out,
                &format!(
                    "p = {class}(); q = p; v = p.{n}; p.{n} = v\n\
                     assert p.{n} == v\nassert bytes(p) == bytes(q)",
                    n = f.name
                ),
            );
            // listed, offered, shown, written to JSON
            let row = format!("{:<10}: {:<22} = ", f.name, f.kind.describe());
            assert!(
                listed.lines().any(|x| x.starts_with(&row)),
                "ls({class}) misses {what}:\n{listed}"
            );
            assert!(
                values.lines().any(|x| x.starts_with(&row)),
                "ls(p) misses {what}:\n{values}"
            );
            assert!(
                summary.split_whitespace().any(|w| w == f.name),
                "ls() misses {what}"
            );
            assert!(
                help.split_whitespace().any(|w| w == f.name),
                "help({class}) misses {what}"
            );
            assert!(names.contains(&f.name), "completion misses {what}");
            let shown = format!("  {:<10}= ", f.name);
            assert!(
                tree.lines().any(|x| x.starts_with(&shown)),
                "show() misses {what}:\n{tree}"
            );
            assert!(
                j["layers"][0].get(f.name).is_some(),
                "json misses {what}: {j}"
            );
            // `TCP.dport` describes the field
            let d = run(&mut it, &out, &format!("print({class}.{})", f.name));
            assert!(
                d.starts_with(&format!("{what}: {}", f.kind.describe())),
                "{d}"
            );
        }
    }
}
