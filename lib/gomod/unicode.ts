// Unicode and UTF-8 primitives with the exact semantics of Go 1.23's
// unicode, unicode/utf8 and strings packages, plus x/mod/zip's strToFold.
//
// Go 1.23 ships Unicode 15.0.0, while Node's ICU follows whatever Unicode
// release it was built with (Node 20.20 reports 17.0), so JS regular
// expressions like /\p{L}/u and String.prototype.toLowerCase give different
// answers for code points assigned after 15.0. Instead the facts Go uses are
// embedded below as compact tables, generated from Go's own unicode package by
// the test oracle's "unicode.tables" op (test/support/xmod-oracle/main.go). The
// fold.test.ts differential test re-generates them and checks every code point
// 0..0x10FFFF against Go; to regenerate, paste the strings it reports.
//
// Strings: Go strings are bytes, JS strings are UTF-16. Throughout lib/gomod a
// JS string stands for its WTF-8 encoding: well-formed text is plain UTF-8, and
// a lone surrogate stands for the three bytes of its generalised UTF-8 form
// (ED A0 80 for U+D800), which Go treats as invalid UTF-8: utf8.ValidString
// rejects it and `for range` yields one U+FFFD per byte. Bytes read from files
// are decoded the way Go's []rune(string) would (each invalid byte becomes
// U+FFFD), see decodeUTF8.

/** The Unicode version of the tables below (Go 1.23's unicode.Version). */
export const unicodeVersion = '15.0.0';

// unicode.IsLetter as runs of code points: base-36 pairs "gap,length-1", the
// gap counted from the end of the previous run.
const LETTER_TABLE =
  '1t,p,6,p,1b,0,a,0,4,0,5,m,1,u,1,cp,4,b,e,4,7,0,1,0,3l,4,1,1,2,3,1,0,6,0,1,2,1,0,1,j,1,2a,1,3u,8,' +
  '4l,1,11,2,0,6,14,1z,q,4,3,19,16,z,1,1,2q,1,0,f,1,7,1,a,2,2,0,g,0,1,t,t,2g,b,0,o,w,9,1,4,0,5,l,4,' +
  '0,9,0,3,0,n,o,7,a,5,n,1,5,h,15,1m,1h,3,0,i,0,7,9,f,f,4,7,2,1,2,l,1,6,1,0,3,3,3,0,g,0,d,1,1,2,e,1,' +
  'a,0,8,5,4,1,2,l,1,6,1,1,1,1,1,1,v,3,1,0,j,2,g,8,1,2,1,l,1,6,1,1,1,4,3,0,i,0,f,1,n,0,b,7,2,1,2,l,' +
  '1,6,1,1,1,4,3,0,u,1,1,2,f,0,h,0,1,5,3,2,1,3,3,1,1,0,1,1,3,1,3,2,3,b,m,0,1g,7,1,2,1,m,1,f,3,0,q,2,' +
  '2,0,2,1,u,0,4,7,1,2,1,m,1,9,1,4,3,0,v,1,1,1,f,1,h,8,1,2,1,14,2,0,g,0,5,2,8,2,o,5,5,h,3,n,1,8,1,0,' +
  '2,6,1m,1b,1,1,c,6,1m,1,1,0,1,4,1,n,1,0,1,9,1,1,9,0,2,4,1,0,l,3,w,0,1r,7,1,z,r,4,37,16,k,0,g,5,4,' +
  '3,3,0,3,1,7,2,4,c,c,0,h,11,1,0,5,0,2,16,1,98,1,3,2,6,1,0,1,3,2,14,1,3,2,w,1,3,2,6,1,0,1,3,2,e,1,' +
  '1k,1,3,2,1u,11,f,g,2d,2,5,3,h7,2,g,1,p,5,22,6,7,7,h,d,i,e,h,e,c,1,2,f,1f,z,0,4,0,1v,2g,7,4,2,x,1,' +
  '0,5,1x,a,u,1d,t,2,4,b,17,4,p,1i,m,9,1g,2a,0,2l,1a,h,7,1i,t,d,1,a,17,q,z,15,2,a,z,2,8,7,16,2,2,15,' +
  '3,1,5,1,1,3,0,5,5b,1s,7p,2,5,2,11,2,5,2,7,1,0,1,0,1,0,1,u,2,1g,1,6,1,0,3,2,1,6,3,3,2,5,4,c,5,2,1,' +
  '6,38,0,d,0,g,c,2t,0,4,0,2,9,1,0,3,4,6,0,1,0,1,0,1,3,1,a,2,3,5,4,4,0,1g,1,22j,6c,6,3,3,1,c,11,1,0,' +
  '5,0,2,1j,7,0,g,m,9,6,1,6,1,6,1,6,1,6,1,6,1,6,1,6,28,0,d1,1,16,4,5,1,4,2d,6,2,1,2h,1,3,5,16,1,2l,' +
  'h,v,1c,f,e8,533,1s,h3g,1v,19,2,7g,3,f,a,1,k,1a,g,u,2,1x,1d,8,2,2u,2,1r,5,1,1,0,1,4,o,f,1,2,1,3,1,' +
  'm,t,1f,e,1d,1q,5,3,0,1,1,b,r,a,m,p,s,7,1a,s,0,g,4,1,9,a,4,1,14,n,2,1,7,k,m,3,0,3,1d,1,0,3,1,2,4,' +
  '2,0,1,0,o,2,2,a,7,2,c,5,2,5,2,5,9,6,1,6,1,16,1,d,6,36,t,8mb,c,m,4,1c,6is,a5,2,2x,12,6,c,4,5,0,1,' +
  '9,1,c,1,4,1,0,1,1,1,1,1,2z,x,a2,i,1r,2,1h,14,b,38,4,1,3q,10,p,6,p,b,2g,3,5,2,5,2,5,2,2,z,b,1,p,1,' +
  'i,1,1,1,e,2,d,y,3e,at,s,3,1c,1b,v,d,j,1,7,6,11,a,t,2,z,4,7,1c,4d,i,z,4,z,4,13,8,1f,c,a,1,e,1,6,1,' +
  '1,1,a,1,e,1,6,1,1,1v,8m,9,l,a,7,o,5,1,15,1,8,1x,5,2,0,1,17,1,1,3,0,2,m,a,m,9,u,1t,i,1,1,a,l,a,p,' +
  '1y,1j,6,1,1s,0,f,3,1,2,1,s,16,s,3,s,z,7,1,r,r,1h,a,l,a,i,d,h,32,20,1j,1e,d,1e,d,z,9o,15,6,1,26,s,' +
  'a,0,8,l,16,h,1a,k,r,m,c,1g,1l,1,2,0,d,18,w,o,q,z,t,0,2,0,8,y,3,0,c,1b,e,3,l,0,1,0,z,h,1,o,j,1,1r,' +
  '6,1,0,1,3,1,e,1,9,7,1a,12,7,2,1,2,l,1,6,1,1,1,4,3,0,i,0,c,4,4e,1g,i,3,k,2,u,1b,k,1,1,0,54,1a,15,' +
  '3,10,1b,k,0,1n,16,d,0,1z,q,11,6,55,17,38,1r,v,7,2,0,2,7,1,1,1,n,f,0,1,0,2m,7,2,12,g,0,1,0,s,0,a,' +
  '13,7,0,l,0,b,19,j,0,i,20,7b,8,1,10,h,0,1d,t,34,6,1,1,1,11,l,0,p,5,1,1,1,v,e,0,93,i,f,0,1,c,1,x,' +
  '3g,0,27,pl,6e,5f,218,2o,f,tr,h,5,33t,g6,6nt,fs,7,u,h,26,h,t,i,1b,g,3,v,k,5,i,j4,1r,3k,22,5,0,1u,' +
  'c,1s,1,1,0,s,4qf,8,yd,16,8,6w7,3,1,6,1,1,1,82,f,0,t,2,2,0,e,3,8,az,1s4,2y,5,c,3,8,7,9,4me,2c,1,' +
  '1y,1,1,2,0,2,1,2,3,1,b,1,0,1,6,1,1s,1,3,2,7,1,6,1,r,1,3,1,4,1,0,3,6,1,9f,2,o,1,o,1,u,1,o,1,u,1,o,' +
  '1,u,1,o,1,u,1,o,1,7,1f8,u,6,5,79,1p,42,18,a,6,g,0,8x,t,i,17,dg,r,l0,6,1,3,1,1,1,e,1,5g,1n,1v,7,0,' +
  'xg,3,1,q,1,1,1,0,2,0,1,9,1,3,1,0,1,0,6,0,4,0,1,0,1,0,1,2,1,1,1,0,2,0,1,0,1,0,1,0,1,0,1,1,1,0,2,3,' +
  '1,6,1,3,1,3,1,0,1,9,1,g,5,2,1,4,1,g,3es,wyn,w,37d,6,65,2,4g1,e,5rk,2e7,f1,15u,3t6,5,38f';
// unicode.IsPrint, in the same form.
const PRINT_TABLE =
  'w,2m,y,b,1,jt,2,5,4,6,1,0,1,j,1,b0,1,11,2,1d,2,2,1,1i,8,q,4,5,h,l,1,5b,1,1b,2,1m,2,2s,e,1m,2,1c,' +
  '2,e,1,r,2,0,1,a,5,u,9,21,1,4g,1,7,2,1,2,l,1,6,1,0,3,3,2,8,2,1,2,3,8,0,4,1,1,4,2,o,2,2,1,5,4,1,2,' +
  'l,1,6,1,1,1,1,1,1,2,0,1,4,4,1,2,2,3,0,7,3,1,0,7,g,a,2,1,8,1,2,1,l,1,6,1,1,1,4,2,9,1,2,1,2,2,0,f,' +
  '3,2,b,7,6,1,2,1,7,2,1,2,l,1,6,1,1,1,4,2,8,2,1,2,2,7,2,4,1,1,4,2,h,a,1,1,5,3,2,1,3,3,1,1,0,1,1,3,' +
  '1,3,2,3,b,4,4,3,2,1,3,2,0,6,0,e,k,5,c,1,2,1,m,1,f,2,8,1,2,1,3,7,1,1,2,2,0,2,3,2,9,7,l,1,2,1,m,1,' +
  '9,1,4,2,8,1,2,1,3,7,1,6,1,1,3,2,9,1,2,c,c,1,2,1,1e,1,2,1,5,4,f,2,p,1,2,1,h,3,n,1,8,1,0,2,6,3,0,4,' +
  '5,1,0,1,7,6,9,2,2,c,1l,4,s,11,1,1,0,1,4,1,n,1,0,1,m,2,4,1,0,1,6,1,9,2,3,w,1z,1,z,4,12,1,z,1,e,1,' +
  'c,11,5h,1,0,5,0,2,ag,1,3,2,6,1,0,1,3,2,14,1,3,2,w,1,3,2,6,1,0,1,3,2,e,1,1k,1,3,2,1u,2,v,3,p,6,2d,' +
  '2,5,2,hr,1,r,3,2g,7,l,9,n,9,j,c,c,1,2,1,1,c,2l,2,9,6,9,6,d,1,a,6,2g,7,16,5,1x,a,u,1,b,4,b,4,0,3,' +
  '15,2,4,b,17,4,p,6,a,3,1p,2,1s,1,s,2,a,6,9,6,d,2,u,1d,24,3,1a,1,37,8,1n,3,e,3,1n,7,16,2,a,8,16,5,' +
  'et,2,5,2,11,2,5,2,7,1,0,1,0,1,0,1,u,2,1g,1,e,1,d,2,5,1,i,2,2,1,8,h,n,8,1a,h,1,2,q,1,c,3,w,f,w,f,' +
  '3v,4,ie,p,a,l,1eb,2,v,1,9o,5,18,1,0,5,0,2,1j,7,1,e,n,9,6,1,6,1,6,1,6,1,6,1,6,1,6,1,6,1,3h,y,p,1,' +
  '2g,c,5x,q,b,5,1q,1,2d,2,2u,5,16,1,2l,1,2b,c,1a,1,mlo,3,1i,9,9n,k,53,8,5m,5,1,1,0,1,4,o,1m,3,9,6,' +
  '1j,8,1x,8,b,6,37,b,t,3,25,1,a,4,w,1,1i,9,d,2,9,2,2u,o,r,a,5,2,5,2,5,9,6,1,6,1,1n,4,3h,2,9,6,8mb,' +
  'c,m,4,1c,6is,a5,2,2x,12,6,c,4,5,p,1,4,1,0,1,1,1,1,1,3g,g,cc,2,1h,7,0,w,15,6,1e,1,i,1,3,4,4,1,3q,' +
  '4,59,3,5,2,5,2,5,2,2,3,6,1,6,d,1,2,b,1,p,1,i,1,1,1,e,2,d,y,3e,5,2,4,18,3,2f,1,c,3,0,1b,19,3m,s,3,' +
  '1c,f,r,4,z,9,t,5,16,5,t,1,10,4,d,16,4d,2,9,6,z,4,z,4,13,8,1f,b,b,1,e,1,6,1,1,1,a,1,e,1,6,1,1,1v,' +
  '8m,9,l,a,7,o,5,1,15,1,8,1x,5,2,0,1,17,1,1,3,0,2,m,1,1z,8,8,1c,i,1,1,5,w,3,q,5,0,1s,1j,4,j,2,1d,1,' +
  '1,5,7,1,2,1,s,2,2,4,9,7,8,7,1r,w,12,4,b,9,1h,3,s,2,q,5,p,7,3,c,6,28,20,1j,1e,d,1e,7,19,8,9,86,u,' +
  '1,15,1,2,2,1,23,16,8,15,m,p,12,r,k,m,9,25,4,z,9,1p,1,4,d,o,7,9,6,1g,1,h,8,12,9,2n,1,j,b,h,1,1a,' +
  '1q,6,1,0,1,3,1,e,1,a,6,1m,5,9,6,3,1,7,2,1,2,l,1,6,1,1,1,4,1,9,2,1,2,2,2,0,6,0,5,6,2,6,3,4,3v,2j,' +
  '1,4,u,1z,8,9,4m,1h,2,11,y,1w,b,9,6,c,j,1l,6,9,1i,q,2,e,4,m,55,1n,2s,2a,c,7,2,0,2,7,1,1,1,t,1,1,2,' +
  'b,9,9,1y,7,2,19,2,a,r,1z,8,2a,d,20,7,9,6u,8,1,18,1,d,a,s,3,v,2,l,1,d,21,6,1,1,1,17,3,0,1,1,1,8,8,' +
  '9,6,5,1,1,1,10,1,1,1,5,7,9,8m,o,7,g,1,14,3,r,2e,0,f,1d,d,pm,2u,32,1,4,b,5f,218,2q,d,tr,g,l,33e,' +
  'g6,6nt,fs,7,u,1,9,4,28,1,9,6,t,2,5,a,1x,a,9,1,6,1,k,5,i,j4,2i,2t,22,4,1k,7,g,1s,4,b,1,e,4qf,8,yd,' +
  '16,8,6w7,3,1,6,1,1,1,82,f,0,t,2,2,0,e,3,8,az,1s4,2y,5,c,3,8,7,9,2,3,3mo,19,2,m,9,37,1o,6t,a,12,2,' +
  '21,8,33,l,1x,3e,j,c,j,c,2e,9,o,3r,2c,1,1y,1,1,2,0,2,1,2,3,1,b,1,0,1,6,1,1s,1,3,2,7,1,6,1,r,1,3,1,' +
  '4,1,0,3,6,1,9f,2,83,2,jh,f,4,1,e,uo,u,6,5,5x,6,1,g,2,6,1,1,1,4,5,1p,x,0,34,18,3,d,2,9,4,1,8w,u,h,' +
  '1l,5,0,cw,15,km,6,1,3,1,1,1,e,1,5g,2,f,15,23,4,9,4,1,lt,1v,24,1o,5e,3,1,q,1,1,1,0,2,0,1,9,1,3,1,' +
  '0,1,0,6,0,4,0,1,0,1,0,1,2,1,1,1,0,2,0,1,0,1,0,1,0,1,0,1,1,1,0,2,3,1,6,1,3,1,3,1,0,1,9,1,g,5,2,1,' +
  '4,1,g,1g,1,7i,17,4,2r,c,e,2,e,1,e,1,10,a,4t,1k,s,d,17,4,8,7,1,e,5,4a,rb,4,g,3,c,3,3a,4,2m,6,b,4,' +
  '0,f,b,4,1j,8,9,6,13,8,t,2,1,26,9f,c,d,2,c,3,8,7,19,1,6,8,d,4,8,7,8,7,42,1,1i,11,9,sm,wyn,w,37d,6,' +
  '65,2,4g1,e,5rk,2e7,f1,15u,3t6,5,38f,f9e8,6n';
// Every unicode.SimpleFold orbit with more than one member, as runs
// "first.count.stride.d1[.d2...]" (base 36): count orbits whose smallest
// members are first, first+stride, ..., each orbit being {m, m+d1, m+d2...}.
const FOLD_TABLE =
  '1t.a.1.w,23.1.0.w.6hr,24.7.1.w,2b.1.0.w.8c,2c.7.1.w,51.1.0.kn.lj,5c.5.1.w,5h.1.0.w.6ee,5i.h.1.w,' +
  '60.7.1.w,67.1.0.5vj,73.1.0.3d,74.o.2.1,8i.3.2.1,8p.8.2.1,96.n.2.1,ah.3.2.1,ao.1.0.5f,ap.1.0.5u,' +
  'aq.2.2.1,au.1.0.5q,av.1.0.1,ax.2.1.5p,az.1.0.1,b2.1.0.27,b3.1.0.5m,b4.1.0.5n,b5.1.0.1,b7.1.0.5p,' +
  'b8.1.0.5r,b9.1.0.2p,ba.1.0.5v,bb.1.0.5t,bc.1.0.1,be.1.0.4j,bg.1.0.5v,bh.1.0.5x,bi.1.0.3m,' +
  'bj.1.0.5y,bk.3.2.1,bq.1.0.62,br.1.0.1,bt.1.0.62,bw.1.0.1,by.1.0.62,bz.1.0.1,c1.2.1.61,c3.2.2.1,' +
  'c7.1.0.63,c8.2.4.1,cf.1.0.1k,ck.3.3.1.2,ct.8.2.1,da.9.2.1,dt.1.0.1.2,dw.2.4.1,e2.j.2.1,f6.9.2.1,' +
  'fu.1.0.8bv,fv.1.0.1,fy.1.0.8bs,fz.2.1.8cf,g1.1.0.1,g4.1.0.1x,g5.1.0.1z,g6.5.2.1,gg.1.0.8bj,' +
  'gh.1.0.8bg,gi.1.0.8bi,gs.1.0.wnj,gx.1.0.wnf,h1.1.0.wmg,h2.2.4.wn8,h7.1.0.8af,h8.1.0.wn5,' +
  'hd.1.0.8al,hp.1.0.89z,hu.1.0.wn7,hz.1.0.wmi,il.1.0.wlx,im.1.0.wlu,n9.1.0.2c.38.5mh,og.2.2.1,' +
  'om.1.0.1,or.3.1.3m,ov.1.0.38,p2.1.0.12,p4.3.1.11,p8.1.0.1s,pa.2.1.1r,pd.1.0.w,pe.1.0.w.1q,' +
  'pf.2.1.w,ph.1.0.w.2o,pi.2.1.w,pk.1.0.w.1l.2k,pm.1.0.w.2e,pn.2.2.w,pq.2.1.w,ps.1.0.w.1i,' +
  'pt.1.0.w.28,pv.1.0.v.w,pw.2.1.w,py.1.0.w.1b,pz.2.1.w,q1.1.0.w.5tp,q2.2.1.w,r3.1.0.8,rc.c.2.1,' +
  's2.1.0.7,s7.2.3.1,sg.g.1.28,sw.2.1.w,sy.1.0.w.4tq,sz.1.0.w,t0.1.0.w.4tp,t1.9.1.w,ta.1.0.w.4tg,' +
  'tb.2.1.w,td.1.0.w.4te,te.1.0.w.4te.4tf,tf.7.1.w,tm.1.0.w.4t8,tn.5.1.w,v4.1.0.1,v6.1.0.1.4rp,' +
  'v8.f.2.1,wa.r.2.1,xs.1.0.f,xt.7.2.1,y8.1c.2.1,10x.12.1.1c,3a8.12.1.5ls,3bb.2.6.5ls,3bk.17.1.2bk,' +
  '3ct.3.1.2bk,3vk.28.1.tzk,3xs.6.1.8,5mw.1.0.r7m.r7n,5tl.1.0.r9g,5tp.1.0.2xy,5u6.1.0.raw,' +
  '5xc.1c.2.1,600.1.0.1.1n,602.q.2.1,61s.1c.2.1,64g.8.1.8,64w.6.1.8,65c.8.1.8,65s.8.1.8,668.6.1.8,' +
  '66p.4.2.8,674.8.1.8,67k.2.1.22,67m.4.1.2e,67q.2.1.2s,67s.2.1.3k,67u.2.1.34,67w.2.1.3i,680.8.1.8,' +
  '68g.8.1.8,68w.8.1.8,69c.2.1.8,69f.2.g.9,6a8.2.1.8,6ao.2.1.8,6at.1.0.7,6b7.1.0.9,6k2.1.0.s,' +
  '6lc.g.1.g,6mb.1.0.1,792.q.1.q,8ow.1c.1.1c,8rk.2.7.1,8rt.2.2.1,8s2.2.3.1,8sg.1e.2.1,8vf.2.2.1,' +
  '8vm.2.nym.1,wua.4.2.1,wuk.h.2.1,ww0.e.2.1,x0i.7.2.1,x0y.v.2.1,x2x.2.2.1,x32.5.2.1,x3f.2.5.1,' +
  'x3m.1.0.1,x3o.1.0.1c,x3q.a.2.1,x4j.1.0.ps,x4k.8.2.1,x53.2.2.1,x5c.2.6.1,x5k.2.t.1,1ee9.q.1.w,' +
  '1fcw.14.1.14,1fhs.10.1.14,1fn4.b.1.13,1fng.f.1.13,1fnw.7.1.13,1fo4.2.1.13,1h1c.1f.1.1s,' +
  '1jfk.w.1.w,20cg.w.1.w,2olc.y.1.y';

/** The embedded tables, exported so fold.test.ts can compare them with Go's. */
export const unicodeTables = { letter: LETTER_TABLE, print: PRINT_TABLE, fold: FOLD_TABLE } as const;

const MAX_RUNE = 0x10ffff;
const RUNE_ERROR = 0xfffd;

/** Decodes a run table into sorted, flat [lo0, hi0, lo1, hi1, ...] bounds. */
function decodeRanges(table: string): Uint32Array {
  const nums = table.split(',').map((x) => parseInt(x, 36));
  const out = new Uint32Array(nums.length);
  let prevEnd = -1;
  for (let i = 0; i < nums.length; i += 2) {
    const lo = prevEnd + 1 + nums[i];
    const hi = lo + nums[i + 1];
    out[i] = lo;
    out[i + 1] = hi;
    prevEnd = hi;
  }
  return out;
}

function inRanges(ranges: Uint32Array, r: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (r < ranges[2 * mid]) hi = mid;
    else if (r > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

// Decoded lazily: most callers only ever see ASCII.
let letterRanges: Uint32Array | undefined;
let printRanges: Uint32Array | undefined;
let orbits: Map<number, readonly number[]> | undefined;

/** unicode.IsLetter. */
export function isLetter(r: number): boolean {
  if (r < 0x80) return (r >= 0x41 && r <= 0x5a) || (r >= 0x61 && r <= 0x7a);
  letterRanges ??= decodeRanges(LETTER_TABLE);
  return inRanges(letterRanges, r);
}

/**
 * unicode.IsPrint (identical to strconv.IsPrint): letters, marks, numbers,
 * punctuation, symbols and the ASCII space, but no other space.
 */
export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  printRanges ??= decodeRanges(PRINT_TABLE);
  return inRanges(printRanges, r);
}

/**
 * unicode.IsSpace. Go's set is Latin-1's \t \n \v \f \r space U+0085 U+00A0
 * plus the White_Space property above Latin-1, which has not changed in many
 * Unicode versions. (JS's trim() differs: it strips U+FEFF but not U+0085.)
 */
export function isSpace(r: number): boolean {
  if (r <= 0xff) return (r >= 0x09 && r <= 0x0d) || r === 0x20 || r === 0x85 || r === 0xa0;
  return (
    r === 0x1680 ||
    (r >= 0x2000 && r <= 0x200a) ||
    r === 0x2028 ||
    r === 0x2029 ||
    r === 0x202f ||
    r === 0x205f ||
    r === 0x3000
  );
}

/**
 * strings.Fields: s split around runs of unicode.IsSpace, no empty fields.
 * Parsers of Go's line formats (a proxy's list, go.sum, go-import content)
 * use this rather than JS's \s, whose set is not Go's (see isSpace).
 */
export function fields(s: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    const space = isSpace(s.charCodeAt(i)); // no space is above U+FFFF, so UTF-16 units suffice
    if (space && start >= 0) {
      out.push(s.slice(start, i));
      start = -1;
    } else if (!space && start < 0) start = i;
  }
  if (start >= 0) out.push(s.slice(start));
  return out;
}

/** Maps every code point in a non-trivial fold orbit to that orbit's sorted members. */
function foldOrbits(): Map<number, readonly number[]> {
  if (orbits) return orbits;
  const m = new Map<number, readonly number[]>();
  for (const run of FOLD_TABLE.split(',')) {
    const [first, count, stride, ...deltas] = run.split('.').map((x) => parseInt(x, 36));
    for (let k = 0; k < count; k++) {
      const min = first + k * stride;
      const members = [min, ...deltas.map((d) => min + d)];
      for (const x of members) m.set(x, members);
    }
  }
  orbits = m;
  return m;
}

/**
 * unicode.SimpleFold: the smallest rune greater than r that is equivalent to
 * r under simple case folding, or, if there is none, the smallest equivalent
 * rune (possibly r itself). Out-of-range values are returned unchanged.
 */
export function simpleFold(r: number): number {
  if (r < 0 || r > MAX_RUNE) return r;
  const orbit = foldOrbits().get(r);
  if (!orbit) return r;
  for (const x of orbit) if (x > r) return x;
  return orbit[0];
}

/** The smallest member of r's fold orbit: equal for exactly the runes EqualFold equates. */
function foldMin(r: number): number {
  const orbit = r >= 0x80 || (r >= 0x41 && r <= 0x5a) || (r >= 0x61 && r <= 0x7a) ? foldOrbits().get(r) : undefined;
  return orbit ? orbit[0] : r;
}

/**
 * The runes Go's `for _, r := range s` yields for the WTF-8 bytes of s:
 * code points, except that a lone surrogate (3 invalid bytes) gives three
 * U+FFFD.
 */
export function goRunes(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out.push(0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00));
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) out.push(RUNE_ERROR, RUNE_ERROR, RUNE_ERROR);
    else out.push(c);
  }
  return out;
}

/** utf8.ValidString of s's WTF-8 bytes: false exactly when s has a lone surrogate. */
export function isValidUTF8(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/** The WTF-8 bytes of s (plain UTF-8 when s is well-formed). */
export function encodeUTF8(s: string): Uint8Array {
  if (isValidUTF8(s)) return new TextEncoder().encode(s);
  const out: number[] = [];
  for (const r of codePoints(s)) appendRune(out, r);
  return Uint8Array.from(out);
}

/** Code points of s, lone surrogates included as themselves. */
function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const r = s.codePointAt(i) as number;
    out.push(r);
    if (r > 0xffff) i++;
  }
  return out;
}

/** Appends the (generalised) UTF-8 encoding of r, as utf8.AppendRune would for valid runes. */
export function appendRune(out: number[], r: number): void {
  if (r < 0x80) out.push(r);
  else if (r < 0x800) out.push(0xc0 | (r >> 6), 0x80 | (r & 0x3f));
  else if (r < 0x10000) out.push(0xe0 | (r >> 12), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
  else out.push(0xf0 | (r >> 18), 0x80 | ((r >> 12) & 0x3f), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
}

/**
 * utf8.DecodeRune: the rune at b[i] and its width. Invalid or truncated
 * sequences, overlong forms and surrogates give (U+FFFD, 1).
 */
export function decodeRune(b: Uint8Array, i: number): [rune: number, size: number] {
  const c = b[i];
  if (c < 0x80) return [c, 1];
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  let r: number;
  if (c >= 0xc2 && c <= 0xdf) {
    need = 1;
    r = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    r = c & 0x0f;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f; // no surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    r = c & 0x07;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else {
    return [RUNE_ERROR, 1];
  }
  if (i + need >= b.length) return [RUNE_ERROR, 1]; // truncated
  for (let k = 1; k <= need; k++) {
    const d = b[i + k];
    if (d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return [RUNE_ERROR, 1];
    r = (r << 6) | (d & 0x3f);
  }
  return [r, need + 1];
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const REPLACEMENT = () => '\ufffd';

/**
 * Decodes bytes as Go's []rune(string(b)) does: each invalid byte becomes
 * U+FFFD, or what `invalidByte` makes of it (modfile keeps such bytes as
 * surrogate escapes so that they survive a round trip).
 */
export function decodeUTF8(b: Uint8Array, invalidByte: (byte: number) => string = REPLACEMENT): string {
  // Fast path: TextDecoder agrees with Go whenever the input is valid.
  try {
    return STRICT_UTF8.decode(b);
  } catch {
    // fall through to the byte-by-byte decoder
  }
  let out = '';
  for (let i = 0; i < b.length; ) {
    const [r, size] = decodeRune(b, i);
    out += r === 0xfffd && size === 1 ? invalidByte(b[i]) : String.fromCodePoint(r);
    i += size;
  }
  return out;
}

/**
 * Go's string comparison (byte-wise over the UTF-8/WTF-8 encodings), which
 * is code point order. JS's < compares UTF-16 code units and so puts
 * U+E000..U+FFFF after astral characters.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length < b.length ? -1 : 1;
  // Step back onto the start of a surrogate pair split by the mismatch.
  if (i > 0 && isHighSurrogate(a.charCodeAt(i - 1)) && (isLowSurrogate(a.charCodeAt(i)) || isLowSurrogate(b.charCodeAt(i)))) i--;
  const ra = a.codePointAt(i) as number;
  const rb = b.codePointAt(i) as number;
  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** strings.EqualFold: equal under simple Unicode case folding, rune by rune. */
export function equalFold(s: string, t: string): boolean {
  const rs = goRunes(s);
  const rt = goRunes(t);
  if (rs.length !== rt.length) return false;
  for (let i = 0; i < rs.length; i++) {
    if (rs[i] !== rt[i] && foldMin(rs[i]) !== foldMin(rt[i])) return false;
  }
  return true;
}

/**
 * x/mod/zip's strToFold: a key such that strings.EqualFold(s, t) iff
 * strToFold(s) === strToFold(t). Each rune becomes the smallest member of its
 * SimpleFold orbit, except that A-Z then become a-z, so that plain lower-case
 * ASCII (the common case) maps to itself.
 */
export function strToFold(s: string): string {
  // Go's fast path: all ASCII and no upper case.
  if (/^[\x00-\x40\x5b-\x7f]*$/.test(s)) return s;
  let out = '';
  for (let r of goRunes(s)) {
    r = foldMin(r);
    if (r >= 0x41 && r <= 0x5a) r += 0x20;
    out += String.fromCodePoint(r);
  }
  return out;
}
