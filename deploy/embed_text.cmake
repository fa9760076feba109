# cmake -DSRC=in -DOUT=out.c -DSYM=name [-DPRELUDE="a.lua|b.lua"] [-DTEXT=out.lua] -P embed_text.cmake
# The C string is the PRELUDE files (each followed by a newline) then SRC; TEXT gets the same text.
set(body "")
if(PRELUDE)
  string(REPLACE "|" ";" files "${PRELUDE}")
  foreach(f ${files})
    file(READ "${f}" part)
    string(APPEND body "${part}\n")
  endforeach()
endif()
file(READ "${SRC}" part)
string(APPEND body "${part}")
if(TEXT)
  file(WRITE "${TEXT}" "${body}")
endif()
string(HEX "${body}" hex)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* generated from ${PRELUDE} ${SRC}; do not edit */\n#include <stddef.h>\n"
  "const char ${SYM}[] = {${bytes} 0x00};\nconst size_t ${SYM}_len = sizeof(${SYM}) - 1;\n")
