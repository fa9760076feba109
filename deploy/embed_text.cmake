# cmake -DSRC=in -DOUT=out.c -DSYM=name -P embed_text.cmake
file(READ "${SRC}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* generated from ${SRC}; do not edit */\n#include <stddef.h>\n"
  "const char ${SYM}[] = {${bytes} 0x00};\nconst size_t ${SYM}_len = sizeof(${SYM}) - 1;\n")
