this is definitely not SQL ;;; DROP
