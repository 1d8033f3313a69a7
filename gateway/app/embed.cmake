# Writes OUT, a C++ file defining NAME as the text of IN (for documents served by the binary).
file(READ "${IN}" content)
file(WRITE "${OUT}" "// Generated from ${IN}; do not edit.\n#include <string_view>\nnamespace bbgw::app {\nextern std::string_view const ${NAME};\nstd::string_view const ${NAME} = R\"bbgw_embed(${content})bbgw_embed\";\n}\n")
